"""Models: runs, checkpoints, imports, exports and reconstructions, and `Models`, the facade pages use (facade.py,
which says more). Its names are imported from there on first use (services.lazy.package): importing one module of
the area does not import the whole area."""
from services import lazy

__getattr__ = lazy.package(__name__, 'services.models.facade')
