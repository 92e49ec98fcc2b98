"""Plugins: the studio's own areas and the packages installed beside it, registered through the same hooks.

As Datasette does with its DEFAULT_PLUGINS, the built-in areas are plugin modules handed to the manager first;
third-party plugins are the `rave_studio` entry points of the installed packages. Hooks are collected once, at
start-up (the job kinds at the first job). A third-party plugin that fails (on import, in a hook, in a check it
runs, on a page it draws) is reported on Settings → Plugins and left out; a built-in that fails is the studio's
own bug and raises.

Plugins import the SDK from here: `hookimpl` and the types of services/hookspecs.
"""
from __future__ import annotations

import dataclasses
import importlib.metadata
import inspect
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pluggy

from services import access, docs, hookspecs, i18n
from services.access import Action, Actor
from services.datasets.doctor import Finding
from services.hookspecs import (
    PROJECT,
    DatasetCheck,
    ExportCheck,
    ExportTarget,
    JobKind,
    NavEntry,
    Route,
    RunAlert,
    hookimpl,
)
from services.settings import SettingDoc
from services.store import PluginState
from services.training.metrics import Alert
from services.training.tensorboard import PREFIX as TENSORBOARD

__all__ = ['Alert', 'DatasetCheck', 'ExportCheck', 'ExportTarget', 'Finding', 'JobKind', 'NavEntry', 'PluginManager',
           'PluginView', 'Plugins', 'Route', 'RunAlert', 'SettingDoc', 'current_entry', 'disabled_plugins',
           'hookimpl']

CONTRIBUTIONS: dict[str, type] = {  # hook → the type its list holds
    'register_routes': Route,
    'register_navigation': NavEntry,
    'register_job_kinds': JobKind,
    'register_export_targets': ExportTarget,
    'register_dataset_checks': DatasetCheck,
    'register_run_alerts': RunAlert,
    'register_settings': SettingDoc,
}
UNIQUE = {Route: 'path', NavEntry: 'path', JobKind: 'name', ExportTarget: 'name'}  # one owner per key studio-wide
SAID = {JobKind: i18n.N_('job kind "{name}"'), ExportTarget: i18n.N_('export target "{name}"'),  # on the Plugins page
        DatasetCheck: i18n.N_('dataset check "{name}"'), RunAlert: i18n.N_('run alert "{name}"')}
RESERVED = ('/login', '/media', '/_nicegui', '/static', TENSORBOARD)  # the studio's own routes outside the pages
ON_FIRST_USE = {'register_job_kinds'}  # its answers need the areas' engines: asked when the first job needs a kind


class PluginManager:
    """Loads the plugins once and answers what they contribute; the rest of the studio asks it, never pluggy."""

    def __init__(self, builtins: Sequence[object] = (), *, disabled: Collection[str] = (),
                 entry_points: bool = True) -> None:
        self._pm = pluggy.PluginManager(PROJECT)
        self._pm.add_hookspecs(hookspecs)
        self._plugins: dict[str, _Plugin] = {}
        self._saved: dict[str, dict] = {}  # the settings saved on the Plugins page, per plugin (settings_of)
        for module in builtins:
            self._register(_Plugin(module.__name__, module.__name__, builtin=True,
                                   description=_first_line(module.__doc__)), module)
        if entry_points:
            self._load_entry_points(set(disabled))
        self._found = {hook: self._collect(hook, kind) for hook, kind in CONTRIBUTIONS.items()
                       if hook not in ON_FIRST_USE}
        self._navigation = _ordered(self._found['register_navigation'])

    # ---- what the studio asks ---------------------------------------------------------------
    def routes(self) -> list[Route]:
        return list(self._hook('register_routes'))

    def navigation(self) -> list[NavEntry]:
        """Drawer entries in drawer order: by `order`, each child right after its parent."""
        return list(self._navigation)

    def job_kinds(self) -> list[JobKind]:
        return list(self._hook('register_job_kinds'))

    def export_targets(self) -> list[ExportTarget]:
        return list(self._hook('register_export_targets'))

    def dataset_checks(self) -> list[DatasetCheck]:
        return list(self._hook('register_dataset_checks'))

    def run_alerts(self) -> list[RunAlert]:
        return list(self._hook('register_run_alerts'))

    def declared_settings(self, name: str) -> list[SettingDoc]:
        return [doc for owner, doc in self._hook('register_settings') if owner == name]

    def settings_of(self, name: str) -> dict[str, Any]:
        """A plugin's settings: what was saved on the Plugins page, else the default it declared. Read from the
        database once per plugin (a run alert asks at every metric line of every open run page), again after
        `forget_settings`."""
        docs = self.declared_settings(name)
        if not docs:
            return {}
        if name not in self._saved:
            row = PluginState.get_or_none(PluginState.name == name)
            self._saved[name] = dict(row.settings or {}) if row is not None else {}
        saved = self._saved[name]
        return {doc.key: saved.get(doc.key, doc.default) for doc in docs}

    def forget_settings(self, name: str) -> None:
        """A plugin's settings were saved: the next `settings_of` reads them."""
        self._saved.pop(name, None)

    def dataset_findings(self, survey, **target) -> list:
        """What every dataset check finds in a doctor's survey; `target` holds num_signal, channels, sr, lazy,
        example_s. A third-party check that fails is reported and adds nothing."""
        return [found for check in self.dataset_checks() for found in
                self._run(check.plugin, f'Its dataset check "{check.name}"', check.check, survey, **target)]

    def alerts(self, steps: dict, values: dict, **context) -> list:
        """What every run alert says about a run's metrics; `context` holds running and current_step."""
        return [found for alert in self.run_alerts()
                for found in self._run(alert.plugin, f'Its run alert "{alert.name}"', alert.check, steps, values,
                                       **context)]

    def names(self) -> list[str]:
        return list(self._plugins)

    def builtin(self, name: str) -> bool:
        return name in self._plugins and self._plugins[name].builtin

    def report(self, name: str, error: str) -> None:
        """Record a failure of a third-party plugin's contribution (shown on the Plugins page)."""
        self._plugins[name].errors.append(error)

    def views(self, enabled: Callable[[str], bool]) -> list[PluginView]:
        """Every plugin, installed ones first (by name), then the built-in areas in their order."""
        plugins = sorted((p for p in self._plugins.values() if not p.builtin), key=lambda p: p.name)
        plugins += [p for p in self._plugins.values() if p.builtin]
        return [self._view(p, enabled(p.name)) for p in plugins]

    # ---- loading ----------------------------------------------------------------------------
    def _load_entry_points(self, disabled: set[str]) -> None:
        for entry in importlib.metadata.entry_points(group=PROJECT):
            if entry.name in self._plugins:
                continue  # the same distribution seen twice on sys.path, or a name a built-in holds
            dist = entry.dist
            plugin = _Plugin(entry.name, entry.value, builtin=False, distribution=dist.name if dist else '',
                             version=dist.version if dist else '',
                             description=_first_line(dist.metadata['Summary']) if dist else '')
            if entry.name in disabled:
                self._plugins[entry.name] = plugin
                continue
            try:
                module = entry.load()
            except Exception as e:  # noqa: BLE001 — any failure of foreign code is reported, never raised
                plugin.errors.append(f'It could not be imported: {_why(e)}')
                self._plugins[entry.name] = plugin
                continue
            plugin.description = plugin.description or _first_line(getattr(module, '__doc__', ''))
            self._register(plugin, module)

    def _register(self, plugin: _Plugin, module: object) -> None:
        self._plugins[plugin.name] = plugin
        try:
            self._pm.register(module, name=plugin.name)
        except (pluggy.PluginValidationError, ValueError) as e:
            self._refuse(plugin, f'Its hooks do not fit this studio: {e}')
            return
        plugin.hooks = tuple(sorted(c.name for c in self._pm.get_hookcallers(module) or ()))
        unknown = [hook for hook in plugin.hooks if hook not in CONTRIBUTIONS]
        if unknown:
            self._pm.unregister(module)
            plugin.hooks = ()
            self._refuse(plugin, f'It implements {", ".join(unknown)}: no hook of this studio has that name '
                                 '(the plugin guide lists them), so it was left out.')
            return
        plugin.loaded = True

    def _hook(self, hook: str) -> list:  # an ON_FIRST_USE hook is collected when first asked
        if hook not in self._found:
            self._found[hook] = self._collect(hook, CONTRIBUTIONS[hook])
        return self._found[hook]

    def _collect(self, hook: str, kind: type) -> list:
        found, keys = [], set()
        for impl in getattr(self._pm.hook, hook).get_hookimpls():
            plugin = self._plugins[impl.plugin_name]
            items = self._guarded(plugin, f'Its {hook} hook', impl.function, [])
            if items is None:
                continue
            if not isinstance(items, (list, tuple)) or not all(isinstance(i, kind) for i in items):
                self._refuse(plugin, f'Its {hook} hook must return a list of {kind.__name__}; it was left out.')
                continue
            for item in items:
                if kind is Route and not _free(item.path):
                    self._refuse(plugin, f'Its page path {item.path!r} must start with "/" and stay out of '
                                         f'{", ".join(RESERVED)}; it was left out.')
                    continue
                key = getattr(item, UNIQUE[kind]) if kind in UNIQUE else None
                if key is not None and key in keys:
                    self._refuse(plugin, f'Its {kind.__name__} {key!r} is already taken by another plugin; '
                                         'it was left out.')
                    continue
                keys.add(key)
                found.append((plugin.name, item) if kind is SettingDoc
                             else dataclasses.replace(item, plugin=plugin.name))
        return found

    # ---- failures ---------------------------------------------------------------------------
    def _run(self, name: str, what: str, function: Callable, *args, **context) -> list:
        context['settings'] = self.settings_of(name)
        wanted = _accepted(function, context)
        return self._guarded(self._plugins[name], what, lambda: list(function(*args, **wanted) or []), [])

    def _guarded(self, plugin: _Plugin, what: str, call: Callable[[], Any], fallback: Any) -> Any:
        if plugin.builtin:
            return call()
        try:
            return call()
        except Exception as e:  # noqa: BLE001 — any failure of foreign code is reported, never raised
            plugin.errors.append(f'{what} failed: {_why(e)}')
            return fallback

    def _refuse(self, plugin: _Plugin, error: str) -> None:
        if plugin.builtin:
            raise TypeError(f'{plugin.name}: {error}')
        plugin.errors.append(error)

    def _view(self, plugin: _Plugin, enabled: bool) -> PluginView:
        settings = self.settings_of(plugin.name) if self.declared_settings(plugin.name) else {}
        return PluginView(
            name=plugin.name, description=plugin.description, builtin=plugin.builtin,
            distribution=plugin.distribution, version=plugin.version, module=plugin.module,
            loaded=plugin.loaded, enabled=enabled, hooks=plugin.hooks,
            contributions=tuple(self._contributions(plugin.name)), errors=tuple(plugin.errors),
            settings=tuple(SettingView(d.key, settings[d.key], d.default, d.hint)
                           for d in self.declared_settings(plugin.name)))

    def _contributions(self, name: str) -> Iterable[str]:
        for route in self.routes():
            if route.plugin == name:
                yield i18n._('page {path}').format(path=route.path)
        for entry in self._navigation:
            if entry.plugin == name:
                yield i18n._('menu entry "{label}"').format(label=i18n._(entry.label))
        for items in (self.job_kinds(), self.export_targets(), self.dataset_checks(), self.run_alerts()):
            yield from (i18n._(SAID[type(item)]).format(name=item.name) for item in items if item.plugin == name)


@dataclass
class _Plugin:
    name: str
    module: str
    builtin: bool
    distribution: str = ''
    version: str = ''
    description: str = ''
    loaded: bool = False
    hooks: tuple[str, ...] = ()
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SettingView:
    key: str
    value: Any
    default: Any
    hint: str


@dataclass(frozen=True)
class PluginView:
    """One plugin as the Plugins page shows it."""
    name: str
    description: str
    builtin: bool
    distribution: str  # the installed package it comes from ('' for the built-in areas)
    version: str
    module: str
    loaded: bool  # running now
    enabled: bool  # what the next start does
    hooks: tuple[str, ...]
    contributions: tuple[str, ...]
    errors: tuple[str, ...]
    settings: tuple[SettingView, ...]


@access.acts
class Plugins:
    """The plugins as the acting user may see and switch them (Settings → Plugins)."""

    def __init__(self, manager: PluginManager, actor: Actor) -> None:
        self._manager = manager
        self.actor = actor

    def list(self) -> list[PluginView]:
        access.require(self.actor, Action.READ)
        disabled = disabled_plugins()
        return self._manager.views(lambda name: name not in disabled)

    def may_change(self) -> bool:
        return access.allowed(self.actor, Action.SETTINGS)

    def set_enabled(self, name: str, enabled: bool) -> None:
        """Switch a plugin on or off from the next start of the studio."""
        access.require(self.actor, Action.SETTINGS)
        self._known(name)
        if self._manager.builtin(name):
            raise ValueError(i18n.lazy('{name} is part of the studio itself and cannot be switched off.', name=name))
        PluginState.insert(name=name, enabled=enabled).on_conflict(
            conflict_target=[PluginState.name], update={PluginState.enabled: enabled}).execute()

    def set_setting(self, name: str, key: str, value: Any) -> None:
        """Save one of the settings a plugin declares; a value of the wrong kind is refused with a sentence."""
        access.require(self.actor, Action.SETTINGS)
        self._known(name)
        docs = {d.key: d for d in self._manager.declared_settings(name)}
        if key not in docs:
            raise ValueError(i18n._('{name} declares no setting called {key}.').format(name=name, key=key))
        old = self._manager.settings_of(name)
        saved = dict(old, **{key: _coerce(docs[key], value)})
        access.changed(object_=f'plugin {name}, setting {key}', before=old.get(key), after=saved[key])
        PluginState.insert(name=name, settings=saved).on_conflict(
            conflict_target=[PluginState.name], update={PluginState.settings: saved}).execute()
        self._manager.forget_settings(name)

    def guide(self) -> str:
        """The plugin SDK guide (docs/plugins.md), or '' where the docs are not installed."""
        access.require(self.actor, Action.READ)
        return docs.text('plugins')  # its translation for a page in another language

    def _known(self, name: str) -> None:
        if name not in self._manager.names():
            raise ValueError(i18n._('No plugin called {name} is installed.').format(name=name))


def disabled_plugins() -> set[str]:
    """The plugins switched off on the Plugins page (they are not loaded at start-up)."""
    return {row.name for row in PluginState.select().where(~PluginState.enabled)}


def current_entry(entries: Iterable[NavEntry], path: str) -> NavEntry | None:
    """The drawer entry a page at `path` belongs to: the longest entry path that is `path` or above it."""
    best = None
    for entry in entries:
        above = entry.path != '/' and path.startswith(entry.path.rstrip('/') + '/')
        if (path == entry.path or above) and (best is None or len(entry.path) > len(best.path)):
            best = entry
    return best


def _ordered(entries: list[NavEntry]) -> list[NavEntry]:
    paths = {e.path for e in entries}
    entries = [e if e.parent in paths else dataclasses.replace(e, parent='') for e in entries]
    ordered: list[NavEntry] = []

    def under(parent: str) -> None:
        for entry in sorted((e for e in entries if e.parent == parent), key=lambda e: e.order):
            ordered.append(entry)
            under(entry.path)
    under('')
    return ordered


def _free(path: str) -> bool:
    """Whether a page may live at `path`: an absolute URL path outside the studio's own routes."""
    return path.startswith('/') and not any(path == r or path.startswith(r.rstrip('/') + '/') for r in RESERVED)


def _accepted(function: Callable, offered: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments `function` names (all of them if it takes **kwargs), as pluggy does for hooks."""
    parameters = inspect.signature(function).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return offered
    names = {p.name for p in parameters}
    return {k: v for k, v in offered.items() if k in names}


def _coerce(doc: SettingDoc, value: Any) -> Any:
    kind = type(doc.default)
    try:
        return kind(value) if kind in (bool, int, float, str) else value
    except (TypeError, ValueError):
        raise ValueError(i18n._('{key} takes a number ({hint})').format(key=doc.key, hint=doc.hint)) from None


def _first_line(text: str | None) -> str:
    return (text or '').strip().split('\n', 1)[0].strip()


def _why(error: BaseException) -> str:
    return f'{type(error).__name__}: {error}' if str(error) else type(error).__name__
