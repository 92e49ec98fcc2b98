"""Libraries the first page does not need, imported on first use: `np = lazy.module('numpy')` is a module
object whose import runs when one of its attributes is first read (importlib's LazyLoader), so starting the
studio does not pay for numpy, lmdb, yaml or protobuf."""
from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def module(name: str) -> ModuleType:
    """The module `name`, imported now if another module already did, else when it is first used."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(f'No module named {name!r}')
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    lazy = importlib.util.module_from_spec(spec)
    sys.modules[name] = lazy
    loader.exec_module(lazy)
    parent, _, child = name.rpartition('.')
    if parent:  # as an import does: `google.protobuf.message` is also an attribute of `google.protobuf`
        setattr(sys.modules[parent], child, lazy)
    return lazy
