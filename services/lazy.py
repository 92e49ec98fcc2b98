"""Libraries the first page does not need, imported on first use: `np = lazy.module('numpy')` is a stand-in
whose first attribute read imports numpy (through the ordinary, thread-safe import) and then holds numpy's
names itself, so starting the studio does not pay for numpy, lmdb, yaml, protobuf, httpx or soundfile.

Not importlib's LazyLoader: on Python 3.11 two threads touching a lazy module at once can see it half
initialised (the doctor reads files in threads)."""
from __future__ import annotations

import importlib
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
