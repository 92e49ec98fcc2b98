"""One module per area; each area's `plugin` module registers its pages and drawer entries through the plugin
hooks (services/hookspecs.py), as third-party plugins do. BUILTIN_PLUGINS are handed to the plugin manager
before the installed ones; ROUTES and NAV are what the built-in areas register, collected (tests crawl them).

A page builder names what it needs as parameters (see app/main.py `_route`).
"""
from pages import plugin as small_areas
from pages.datasets import plugin as datasets
from pages.lab import plugin as lab
from pages.models import plugin as models
from pages.training import plugin as training
from services.plugins import PluginManager

BUILTIN_PLUGINS = (small_areas, datasets, training, models, lab)

_builtins = PluginManager(BUILTIN_PLUGINS, entry_points=False)
ROUTES = {route.path: (route.title, route.builder) for route in _builtins.routes()}  # path → (title, builder)
NAV = [(entry.path, entry.label, entry.icon) for entry in _builtins.navigation()]  # in drawer order
