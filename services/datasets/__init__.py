"""Datasets: RAVE LMDB folders made from folders of audio, and `Datasets`, the facade dataset pages use (facade.py,
which says more). Its names are imported from there on first use (services.lazy.package): importing one module of
the area does not import the whole area."""
from services import lazy

__getattr__ = lazy.package(__name__, 'services.datasets.facade')
