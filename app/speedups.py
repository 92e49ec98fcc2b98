"""NiceGUI's per-element costs, paid once instead of hundreds of times a page.

Every element NiceGUI builds makes observable collections (its props, classes, style…), and each asks
`helpers.expects_arguments(on_change)` — an `inspect.signature` of the same few bound methods, ~600 times for a
run page: about a sixth of the CPU a page build takes (cProfile of 25 run pages joining, bench/bench_clients.py).
For plain functions and bound methods the answer follows from the code object alone, so it is read from there;
anything else (a partial, a callable object, a wrapped function, a builtin) still goes through NiceGUI's own
check. tests/test_speedups.py holds the two to the same answers.
"""
from __future__ import annotations

import types
from collections.abc import Callable

from nicegui import helpers

_nicegui_expects_arguments = helpers.expects_arguments


def expects_arguments(func: Callable) -> bool:
    """Whether `func` takes a parameter without a default that is neither *args nor **kwargs (NiceGUI's rule)."""
    skip = 0
    target = func
    if type(func) is types.MethodType:
        target, skip = func.__func__, 1
    if type(target) is not types.FunctionType or hasattr(target, '__wrapped__') \
            or hasattr(target, '__signature__') or hasattr(func, '__signature__'):
        return _nicegui_expects_arguments(func)
    code = target.__code__
    positional = code.co_argcount
    if positional < skip:  # a method whose first parameter is *args: NiceGUI's check knows what binds
        return _nicegui_expects_arguments(func)
    required = positional - len(target.__defaults__ or ()) - skip
    if required > 0:
        return True
    keyword_only = code.co_varnames[positional:positional + code.co_kwonlyargcount]
    defaults = target.__kwdefaults__ or {}
    return any(name not in defaults for name in keyword_only)


def install() -> None:
    """Use the fast check inside NiceGUI (it looks the helper up on its `helpers` module at each call)."""
    helpers.expects_arguments = expects_arguments


def installed() -> bool:
    return helpers.expects_arguments is expects_arguments

