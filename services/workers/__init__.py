"""Child-process entry points. Only these modules may import torch, lightning or rave."""
