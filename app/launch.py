"""`rave-studio`'s entry point: the command line of app.main, started with Python's cyclic collector paused.

Importing NiceGUI and the studio makes some 110,000 long-lived objects and almost no garbage (about 2,000
objects in cycles); the collector's passes over them while they are made cost ~100 ms of a ~0.8 s launch. Paused
here, before anything is imported, it is switched on again by `app.main.cli` once the studio is built, after
`gc.freeze()` has set what start-up made aside from every later pass."""
from __future__ import annotations

import gc


def main() -> None:
    gc.disable()
    from app.main import cli  # noqa: PLC0415 (imported with the collector paused: that is the point)
    cli()
