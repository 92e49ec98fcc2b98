"""Training: runs of `rave train` through the studio's worker (the engine is `runs.py`) and `Training`, the facade
pages use (facade.py, which says more). Its names are imported from there on first use (services.lazy.package):
importing one module of the area (its spec, its views, its metrics) does not import the whole area."""
from services import lazy

__getattr__ = lazy.package(__name__, 'services.training.facade')
