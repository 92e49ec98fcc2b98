"""Plugins: the built-in areas register through the hooks, an installed plugin is found through its entry point
and works (its dataset check, its page), the switch persists until the next start, and a broken plugin is
reported on Settings → Plugins without breaking the studio."""
from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
import soundfile
from nicegui.testing import User
from waiting import job_finished

from pages import BUILTIN_PLUGINS, NAV, ROUTES
from services import hookspecs
from services.access import Actor, Forbidden, local
from services.plugins import CONTRIBUTIONS, PluginManager, Plugins, current_entry, disabled_plugins
from services.store import PluginState
from services.training import MetricsView
from services.training.views import Trace

EXAMPLE = Path(__file__).resolve().parent / 'plugins' / 'rave_studio_example'
DRAWER = ['Dashboard', 'Datasets', 'Training', 'Sweeps', 'Experiments', 'History', 'Models', 'Export', 'Explorer',
          'Generate', 'Transfer', 'Team', 'Accounts', 'Audit log', 'Settings', 'Plugins', 'Diagnostics', 'Help']


def install(project: Path, site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What `pip install` leaves for the studio to find: the package importable, and a dist-info holding the
    name, version and entry points of the project's own pyproject.toml."""
    meta = tomllib.loads((project / 'pyproject.toml').read_text())['project']
    _dist_info(site, meta['name'], meta['version'], meta['entry-points']['rave_studio'], meta['description'])
    monkeypatch.syspath_prepend(str(project))
    monkeypatch.syspath_prepend(str(site))


def fake_plugin(site: Path, name: str, source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A one-module plugin `name` installed as the distribution `rave-studio-<name>`."""
    site.mkdir(parents=True, exist_ok=True)
    module = f'rave_studio_{name}'
    (site / f'{module}.py').write_text(source)
    _dist_info(site, f'rave-studio-{name}', '1.0', {name: module}, '')
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, module, raising=False)


def _dist_info(site: Path, name: str, version: str, entry_points: dict[str, str], summary: str) -> None:
    info = site / f'{name.replace("-", "_")}-{version}.dist-info'
    info.mkdir(parents=True)
    (info / 'METADATA').write_text(f'Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {summary}\n')
    (info / 'entry_points.txt').write_text('[rave_studio]\n' + ''.join(f'{k} = {v}\n' for k, v in entry_points.items()))


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install(EXAMPLE, tmp_path / 'site', monkeypatch)


IMPORTS = 'from services.plugins import DatasetCheck, Route, hookimpl\n'
BROKEN = {  # plugin name → (its module's source, what the Plugins page must say about it)
    'crashes': ('raise RuntimeError("no config file")\n', 'It could not be imported: RuntimeError: no config file'),
    'typo': (IMPORTS + '@hookimpl\ndef register_route():\n    return []\n',
             'It implements register_route: no hook of this studio has that name'),
    'raises': (IMPORTS + '@hookimpl\ndef register_routes():\n    return 1 / 0\n',
               'Its register_routes hook failed: ZeroDivisionError: division by zero'),
    'wrong': (IMPORTS + '@hookimpl\ndef register_navigation():\n    return ["/wrong"]\n',
              'Its register_navigation hook must return a list of NavEntry'),
    'taken': (IMPORTS + '@hookimpl\ndef register_routes():\n    return [Route("/datasets", "Mine", print)]\n',
              "Its Route '/datasets' is already taken"),
    'login': (IMPORTS + '@hookimpl\ndef register_routes():\n    return [Route("/login", "Mine", print)]\n',
              "Its page path '/login' must start with \"/\" and stay out of /login, /media"),
    'odd': (IMPORTS + '@hookimpl\ndef register_routes():\n    return [Route("/odd", "Odd", 42)]\n',
            'Its page /odd could not be added: TypeError'),  # found when the studio registers the page
    'page': (IMPORTS + '@hookimpl\ndef register_routes():\n    return [Route("/broken", "Broken page", draw)]\n'
                       'def draw():\n    raise KeyError("volume")\n', 'Its page /broken failed: KeyError'),
    'check': (IMPORTS + '@hookimpl\ndef register_dataset_checks():\n'
                        '    return [DatasetCheck("sulks", lambda survey: None.files)]\n',
              'Its dataset check "sulks" failed: AttributeError'),
}


@pytest.fixture
def broken(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, (source, _) in BROKEN.items():
        fake_plugin(tmp_path / 'broken', name, source, monkeypatch)


def test_every_hook_has_a_spec_with_a_one_line_docstring() -> None:
    specs = {name: f for name, f in vars(hookspecs).items() if hasattr(f, f'{hookspecs.PROJECT}_spec')}
    assert set(specs) == set(CONTRIBUTIONS)
    for name, spec in specs.items():
        assert spec.__doc__ and '\n' not in spec.__doc__.strip(), name


def test_the_builtin_areas_register_through_the_hooks() -> None:
    manager = PluginManager(BUILTIN_PLUGINS, entry_points=False)
    assert {r.path: (r.title, r.builder) for r in manager.routes()} == ROUTES
    assert [(e.path, e.label, e.icon) for e in manager.navigation()] == NAV
    assert [label for _, label, _ in NAV] == DRAWER
    assert all(path in ROUTES for path, _, _ in NAV)
    views = manager.views(lambda _: True)
    assert [v.name for v in views] == [m.__name__ for m in BUILTIN_PLUGINS]
    assert all(v.builtin and v.loaded and not v.errors for v in views)
    assert {r.plugin for r in manager.routes()} == {m.__name__ for m in BUILTIN_PLUGINS}
    plugins_entry = next(e for e in manager.navigation() if e.label == 'Plugins')
    assert (plugins_entry.path, plugins_entry.parent) == ('/settings/plugins', '/settings')


def test_the_current_drawer_entry_is_the_most_specific_one() -> None:
    entries = PluginManager(BUILTIN_PLUGINS, entry_points=False).navigation()
    for path, label in [('/', 'Dashboard'), ('/settings', 'Settings'), ('/settings/plugins', 'Plugins'),
                        ('/settings/plugins/guide', 'Plugins'), ('/training/runs/{run_id}', 'Training'),
                        ('/explorer', 'Explorer'), ('/export', 'Export'), ('/projects', None)]:
        found = current_entry(entries, path)
        assert (found.label if found else None) == label, path


def test_a_builtin_that_breaks_the_hook_contract_raises() -> None:
    class Careless:
        __name__ = 'pages.careless'

        @hookspecs.hookimpl
        def register_routes(self):
            return ['/careless']

    with pytest.raises(TypeError, match='must return a list of Route'):
        PluginManager([Careless()], entry_points=False)


def test_the_example_plugin_is_found_through_its_entry_point(example, studio) -> None:
    manager = PluginManager(BUILTIN_PLUGINS)
    view = next(v for v in manager.views(lambda _: True) if not v.builtin)
    assert (view.name, view.distribution, view.version, view.module) == \
        ('example', 'rave-studio-example', '0.1.0', 'rave_studio_example')
    assert (view.builtin, view.loaded, view.errors) == (False, True, ())
    assert view.hooks == ('register_dataset_checks', 'register_export_targets', 'register_job_kinds',
                          'register_navigation', 'register_routes', 'register_run_alerts', 'register_settings')
    assert 'one recording dominates' in view.description
    assert {'page /example', 'menu entry "Example"', 'dataset check "one recording dominates"',
            'export target "example"', 'job kind "example-count"', 'run alert "loss above the ceiling"'} \
        == set(view.contributions)
    assert [r.plugin for r in manager.routes() if r.path == '/example'] == ['example']
    labels = [e.label for e in manager.navigation()]
    assert labels.index('Explorer') < labels.index('Example') < labels.index('Settings')
    assert [t.name for t in manager.export_targets() if t.plugin == 'example'] == ['example']


def test_the_example_check_finds_a_recording_that_dominates_the_dataset(example, studio, tmp_path: Path) -> None:
    folder = tmp_path / 'audio'
    folder.mkdir()
    for name, seconds in (('long take.wav', 8.0), ('short a.wav', 1.0), ('short b.wav', 1.0)):
        soundfile.write(folder / name, np.zeros(int(16000 * seconds), dtype='float32'), 16000)
    survey = studio.datasets.survey([folder])
    target = {'num_signal': 131072, 'channels': 1, 'sr': 44100, 'lazy': False, 'example_s': 5.9}

    [finding] = studio.plugins.dataset_findings(survey, **target)
    assert finding.severity == 'warning'
    assert finding.text.startswith('long take.wav holds 80% of the audio')
    assert finding.files == [str(folder / 'long take.wav')]

    Plugins(studio.plugins, local()).set_setting('example', 'dominant_share', '0.9')
    assert studio.plugins.settings_of('example') == {'dominant_share': 0.9, 'loss_ceiling': 100.0}
    assert studio.plugins.dataset_findings(survey, **target) == []


def test_the_studios_own_job_kinds_and_alerts_come_through_the_hooks(studio) -> None:
    kinds = {k.name: k for k in studio.plugins.job_kinds()}
    assert {'preprocess', 'dataset_stats', 'train', 'export', 'reconstruct', 'latent_umap', 'train_prior'} <= set(kinds)
    assert {kinds[name].plugin for name in ('preprocess', 'train', 'export', 'latent_umap')} == {'services.builtin'}
    assert kinds['train'].cooperative and 'train' in studio.jobs.cooperative
    assert [(a.name, a.plugin) for a in studio.plugins.run_alerts()] == [('health', 'services.builtin')]
    steps = {'loss': np.arange(1, 4)}
    found = studio.plugins.alerts(steps, {'loss': np.array([1.0, np.nan, 2.0])}, running=False, current_step=3)
    assert [a.kind for a in found] == ['nonfinite'] and 'training diverged' in found[0].message


def test_the_umap_and_prior_jobs_say_what_they_do(studio) -> None:
    """The Play area's job kinds come through the hooks too: their console lines become the job's detail."""
    from services.jobs import JobState
    from services.progress import parser_for
    kinds = {k.name: k for k in studio.plugins.job_kinds()}
    for kind, line, detail in (
            ('latent_umap', 'UMAP of 2000 of 5000 points in 16 dimensions', 'UMAP of 2000 of 5000 points in 16 '
                                                                             'dimensions'),
            ('train_prior', 'Epoch 3:  40%|████      | 2/5 [00:01<00:02,  1.2it/s, v_num=0]', 'epoch 3, batch 2 of 5')):
        state = JobState(1, kind, 'job', 'running')
        for parse in (kinds[kind].parse, parser_for(kind)):  # the kind's own, and the table for older job.json
            state.last = dict(parse(line))
            kinds[kind].describe(state)
            assert state.detail == detail, (kind, parse)
        assert kinds[kind].parse('some other line') is None


def test_the_example_job_kind_runs_with_its_parser_describer_and_finish_hook(example, studio,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('PYTHONPATH', str(EXAMPLE))  # where pip would have put it: the job's host imports the parser
    code = 'import time\nfor i in range(1, 5):\n    print(f"tick {i}/4", flush=True)\n    time.sleep(0.05)\n'
    job = studio.jobs.submit('example-count', 'Count', [sys.executable, '-c', code])
    finished = job_finished(studio, job)
    assert (finished.status, finished.message) == ('done', 'Counted every tick.')
    state = studio.jobs.track(finished)
    assert (state.last['done'], state.last['total'], state.detail) == (4, 4, '4 of 4 ticks')


def test_the_example_run_alert_reaches_the_run_page_through_the_facade(example, studio) -> None:
    steps, loss = np.arange(0, 1200, 100), np.linspace(300.0, 150.0, 12)
    view = MetricsView(step=1100, traces={'loss': Trace(steps, loss, None)})
    training = studio.session(local(), None).training
    [alert] = training.health(view, current_step=1100)
    assert (alert.kind, alert.level) == ('ceiling', 'warning') and 'above the ceiling of 100' in alert.message
    assert training.health(view, current_step=500) == []


def test_switching_a_plugin_off_persists_and_takes_effect_at_the_next_start(example, studio) -> None:
    plugins = Plugins(studio.plugins, local())
    plugins.set_enabled('example', False)
    [view] = [v for v in plugins.list() if v.name == 'example']
    assert (view.loaded, view.enabled) == (True, False)  # still running until the studio starts again
    assert PluginState.get(PluginState.name == 'example').enabled is False

    restarted = PluginManager(BUILTIN_PLUGINS, disabled=disabled_plugins())
    [view] = [v for v in restarted.views(lambda name: name not in disabled_plugins()) if v.name == 'example']
    assert (view.loaded, view.enabled, view.version, view.hooks) == (False, False, '0.1.0', ())
    assert '/example' not in [r.path for r in restarted.routes()]
    plugins.set_enabled('example', True)
    assert 'example' not in disabled_plugins()


def test_only_an_admin_switches_plugins_and_builtins_stay_on(example, studio) -> None:
    member = Plugins(studio.plugins, Actor('ann', admin=False, shared=True))
    assert not member.may_change()
    assert next(v.name for v in member.list()) == 'example'  # a member may look
    with pytest.raises(Forbidden, match='change the studio settings'):
        member.set_enabled('example', False)
    with pytest.raises(Forbidden):
        member.set_setting('example', 'dominant_share', 0.7)
    admin = Plugins(studio.plugins, Actor('root', admin=True, shared=True))
    with pytest.raises(ValueError, match='part of the studio itself'):
        admin.set_enabled('pages.datasets.plugin', False)
    with pytest.raises(ValueError, match='No plugin called nothing'):
        admin.set_enabled('nothing', False)
    with pytest.raises(ValueError, match='dominant_share takes a number'):
        admin.set_setting('example', 'dominant_share', 'most')
    with pytest.raises(ValueError, match='declares no setting called volume'):
        admin.set_setting('example', 'volume', 3)


def test_broken_plugins_are_reported_and_the_rest_still_loads(broken, studio, tmp_path: Path) -> None:
    manager = PluginManager(BUILTIN_PLUGINS)
    assert [r.title for r in manager.routes() if r.path == '/datasets'] == ['Datasets']
    assert '/broken' in [r.path for r in manager.routes()]
    folder = tmp_path / 'audio'
    folder.mkdir()
    soundfile.write(folder / 'a.wav', np.zeros(16000, dtype='float32'), 16000)
    assert manager.dataset_findings(studio.datasets.survey([folder])) == []
    manager.report('page', 'Its page /broken failed: KeyError: volume')
    errors = {v.name: ' '.join(v.errors) for v in manager.views(lambda _: True)}
    for name, (_, said) in BROKEN.items():
        assert name == 'odd' or said in errors[name], name


async def test_the_plugins_page_lists_the_builtin_areas(user: User) -> None:
    await user.open('/settings/plugins')
    await user.should_see('Plugins')
    await user.should_see('No plugins installed yet')
    await user.should_see('pages.datasets.plugin')
    await user.should_see('page /datasets/{dataset_id}/inspect')
    await user.should_see('Hooks: register_navigation · register_routes')
    user.find('How to write a plugin').click()
    await user.should_see('Writing a plugin')


async def test_the_example_plugin_shows_up_and_its_switch_persists(example, user: User) -> None:
    await user.open('/settings/plugins')
    await user.should_see('example')
    await user.should_see('0.1.0')
    await user.should_see('Installed from rave-studio-example (rave_studio_example)')
    await user.should_see('dataset check "one recording dominates"')
    await user.should_see('Warn when one file holds more than this share of the audio (0–1). Default: 0.5.')
    await user.should_see(marker='state-example', content='on')
    user.find(marker='switch-example').elements.pop().set_value(False)
    await user.should_see('example will be off from the next start of the studio.')
    assert 'example' in disabled_plugins()
    await user.open('/settings/plugins')
    await user.should_see(marker='state-example', content='off from the next start')


async def test_the_example_page_answers_and_has_its_drawer_entry(example, user: User) -> None:
    await user.open('/')
    await user.should_see('Example')  # its drawer entry, on every page
    await user.open('/example')
    await user.should_see('Hello from a plugin, working in the project')


async def test_a_failing_plugin_page_says_so_and_the_studio_goes_on(broken, user: User) -> None:
    await user.open('/broken')
    await user.should_see('The plugin page could not draw this page (KeyError')
    await user.open('/datasets')
    await user.should_see('Datasets')
    await user.open('/settings/plugins')
    await user.should_see('It could not be imported: RuntimeError: no config file')
    await user.should_see("Its page /broken failed: KeyError: 'volume'")
    await user.should_see(BROKEN['odd'][1])
    await user.should_see(marker='state-crashes', content='failed to load')


def test_a_plugin_run_alert_sees_the_metrics_it_names(studio, tmp_path: Path, monkeypatch) -> None:
    fake_plugin(tmp_path / 'alerts', 'watch', (
        'from services.plugins import Alert, RunAlert, hookimpl\n'
        '@hookimpl\ndef register_run_alerts():\n'
        '    return [RunAlert("long run", long_run), RunAlert("grumpy", lambda steps, values: 1 / 0)]\n'
        'def long_run(steps, values, current_step):\n'
        '    return [Alert("long", "info", f"{len(values[\'loss\'])} losses by step {current_step}")]\n'),
        monkeypatch)
    manager = PluginManager(BUILTIN_PLUGINS)
    found = manager.alerts({'loss': [1, 2, 3]}, {'loss': [0.5, 0.4, 0.3]}, running=True, current_step=3)
    assert [(a.kind, a.level, a.message) for a in found] == [('long', 'info', '3 losses by step 3')]
    [view] = [v for v in manager.views(lambda _: True) if v.name == 'watch']
    assert view.errors == ('Its run alert "grumpy" failed: ZeroDivisionError: division by zero',)



COUNTER = (IMPORTS + '@hookimpl\ndef register_routes():\n'
           '    return [Route("/count/{what}", "Count", "counter_pages:page")]\n')
COUNTER_PAGES = ('from nicegui import ui\n'
                 'def page(project, what: str, times: int = 1, loud: bool = False):\n'
                 '    ui.label(f"{what} counted {times} times" + ("!" if loud else "")).mark("counted")\n')


@pytest.fixture
def counter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_plugin(tmp_path / 'counter', 'counter', COUNTER, monkeypatch)
    (tmp_path / 'counter' / 'counter_pages.py').write_text(COUNTER_PAGES)
    monkeypatch.delitem(sys.modules, 'counter_pages', raising=False)


async def test_a_route_named_module_function_imports_on_first_request_with_typed_parameters(
        counter, user: User) -> None:
    """A builder given as 'module:function' (how the built-in areas register, so the studio starts without their
    pages) is imported on the first request; path and query parameters reach it converted to its annotations,
    and a value that does not convert gets a sentence."""
    assert 'counter_pages' not in sys.modules
    await user.open('/count/sheep?times=3&loud=yes')
    await user.should_see('sheep counted 3 times!')
    assert 'counter_pages' in sys.modules
    await user.open('/count/goats')
    await user.should_see('goats counted 1 times')
    await user.open('/count/goats?times=many')
    await user.should_see('“many” is not a valid times (int expected): check the address.')
