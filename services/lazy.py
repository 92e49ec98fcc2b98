"""Libraries the first page does not need, imported on first use: `np = lazy.module('numpy')` is a stand-in
whose first attribute read imports numpy (through the ordinary, thread-safe import) and then holds numpy's
names itself, so starting the studio does not pay for numpy, lmdb, yaml, protobuf, httpx or soundfile.

Not importlib's LazyLoader: on Python 3.11 two threads touching a lazy module at once can see it half
initialised (the doctor reads files in threads)."""
from __future__ import annotations

import importlib
import sys
import threading
from types import ModuleType

_LOCK = threading.Lock()


class _Deferred(ModuleType):
    def __getattr__(self, name: str):  # only for names not copied in yet
        if name.startswith('__') and name.endswith('__'):
            raise AttributeError(name)
        with _LOCK:
            real = importlib.import_module(self.__name__)
            self.__dict__.update({k: v for k, v in vars(real).items() if k not in ('__name__', '__spec__')})
        return getattr(real, name)


def module(name: str) -> ModuleType:
    """A stand-in for the module `name`, imported when one of its attributes is first read."""
    return _Deferred(name)


def package(name: str, facade: str):
    """The `__getattr__` of an area package whose facade lives in `facade` (PEP 562): a submodule by its name,
    any other name from `facade`, imported on first use. Importing one of the area's modules (its views, its
    spec) then runs a package `__init__` of a few lines, not the whole area the facade gathers.

        __getattr__ = lazy.package(__name__, 'services.training.facade')
    """
    def __getattr__(attribute: str):
        if attribute.startswith('__') and attribute.endswith('__'):
            raise AttributeError(attribute)
        try:
            return importlib.import_module(f'{name}.{attribute}')
        except ModuleNotFoundError as e:
            if e.name != f'{name}.{attribute}':
                raise
        try:
            value = getattr(importlib.import_module(facade), attribute)
        except AttributeError:
            raise AttributeError(f'module {name!r} has no attribute {attribute!r}') from None
        setattr(sys.modules[name], attribute, value)
        return value
    return __getattr__
