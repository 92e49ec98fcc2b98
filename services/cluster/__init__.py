"""The cluster: where trainings run and what they cost, and `Cluster`, the facade pages use (facade.py, which says
more; the job engine's SLURM executor is slurm.py). Its names are imported from there on first use
(services.lazy.package): importing one module of the area does not import the whole area."""
from services import lazy

__getattr__ = lazy.package(__name__, 'services.cluster.facade')
