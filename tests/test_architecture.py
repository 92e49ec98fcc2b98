"""The house rules of ARCHITECTURE.md, checked on the code: arrows point one way (app → pages → components →
services; pages and components may import only the theme tokens from app/), services never import NiceGUI,
pages never touch the store, modules stay small, the UI process never imports torch, lightning or RAVE, and
ruff holds the style pyproject.toml declares."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ('app', 'pages', 'components', 'services')
ALLOWED = {  # what each layer may import from the project
    'app': {'app', 'pages', 'components', 'services'},
    'pages': {'pages', 'components', 'services', 'app.theme'},
    'components': {'components', 'services', 'app.theme'},
    'services': {'services'},
}
HEAVY = ('torch', 'torchaudio', 'pytorch_lightning', 'lightning', 'rave', 'gin', 'scripts', 'nn_tilde',
         'cached_conv')
MAX_LINES = 400


def _modules(layer: str) -> list[Path]:
    return sorted((ROOT / layer).rglob('*.py'))


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every import in the module, relative imports resolved to absolute names."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = '.'.join(path.relative_to(ROOT).with_suffix('').parts[:-1])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                parts = package.split('.')[:len(package.split('.')) - node.level + 1]
                base = '.'.join([*parts, base]) if base else '.'.join(parts)
            found += [(node.lineno, f'{base}.{alias.name}' if base else alias.name) for alias in node.names]
    return found


def _project(name: str) -> bool:
    return name.split('.')[0] in LAYERS


def _allowed(layer: str, name: str) -> bool:
    return any(name == rule or name.startswith(rule + '.') for rule in ALLOWED[layer])


@pytest.mark.parametrize('layer', LAYERS)
def test_arrows_point_one_way(layer: str) -> None:
    wrong = [f'{path.relative_to(ROOT)}:{line} imports {name}'
             for path in _modules(layer) for line, name in _imports(path)
             if _project(name) and not _allowed(layer, name)]
    assert not wrong, 'imports against the arrows:\n' + '\n'.join(wrong)


def test_services_never_import_nicegui() -> None:
    wrong = [f'{path.relative_to(ROOT)}:{line} imports {name}'
             for path in _modules('services') for line, name in _imports(path)
             if name.split('.')[0] in ('nicegui', 'fastapi', 'starlette')]
    assert not wrong, '\n'.join(wrong)


def test_pages_and_components_never_touch_the_store() -> None:
    wrong = [f'{path.relative_to(ROOT)}:{line} imports {name}'
             for layer in ('pages', 'components') for path in _modules(layer)
             for line, name in _imports(path) if name == 'services.store' or name.startswith('services.store.')]
    assert not wrong, 'pages get facades and views, never ORM rows:\n' + '\n'.join(wrong)


def test_heavy_libraries_only_in_workers() -> None:
    wrong = [f'{path.relative_to(ROOT)}:{line} imports {name}'
             for layer in LAYERS for path in _modules(layer) if 'workers' not in path.parts
             for line, name in _imports(path) if name.split('.')[0] in HEAVY]
    assert not wrong, 'only services/workers/ (child processes) may import torch, lightning or RAVE:\n' \
        + '\n'.join(wrong)


def test_modules_stay_small() -> None:
    big = [f'{path.relative_to(ROOT)}: {n} lines' for layer in LAYERS for path in _modules(layer)
           if (n := len(path.read_text().splitlines())) > MAX_LINES]
    assert not big, f'split these by responsibility (≤ {MAX_LINES} lines):\n' + '\n'.join(big)


def test_the_ui_process_imports_no_heavy_library() -> None:
    code = ('import sys; import app.main; '
            f'print(sorted({{m.split(".")[0] for m in sys.modules}} & {set(HEAVY)!r}))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300, check=False,
                         cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == '[]'


def test_the_studio_starts_without_what_its_first_page_does_not_need() -> None:
    """Launch cost (issue 7): the built-in pages are imported on their first request ('module:function' routes),
    and numpy, lmdb, yaml, protobuf, httpx, soundfile, Markdown, fsspec/s3fs, submitit, Optuna, plotly, ONNX and
    auraloss on first use (area packages and their plugin modules load: they name the routes)."""
    code = ('import sys; import app.main; '
            'print(sorted(m for m in sys.modules if m.startswith("pages.") and not m.endswith(".plugin") '
            'and not hasattr(sys.modules[m], "__path__"))); '
            'print(sorted({m.split(".")[0] for m in sys.modules} & '
            '{"numpy", "lmdb", "yaml", "google", "httpx", "soundfile", "markdown", "fsspec", "s3fs", "submitit", '
            '"optuna", "plotly", "onnx", "onnxruntime", "auraloss"}))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300, check=False,
                         cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-2:] == ['[]', '[]']


def test_a_built_studio_has_not_imported_the_areas_its_first_page_does_not_show(tmp_path) -> None:
    """Launch cost (issue 7): the areas' engines are made on first use, the job kinds when the first job needs
    one, a page's facades when it asks; the dashboard then draws with its own few."""
    engines = ['services.datasets.preprocessing', 'services.training.runs', 'services.models.facade',
               'services.models.exports', 'services.models.play.engine', 'services.training.sweeps',
               'services.cluster.facade']
    code = ('import sys; from pathlib import Path; from app.studio import Studio; from services.access import local; '
            f'studio = Studio(Path({str(tmp_path / "data")!r})); studio.start(); '
            'session = studio.session(local(), None); session.projects.all(); session.jobs.active(); '
            f'print(sorted(m for m in {engines!r} if m in sys.modules)); '
            'studio.jobs.parser_of("train"); '
            f'print(sorted(m for m in {engines!r} if m in sys.modules))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300, check=False,
                         cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    before, after = out.stdout.strip().splitlines()[-2:]
    assert before == '[]', f'made at start-up: {before}'
    # the first job's kind: the engines that declare kinds are made (and only they)
    assert after == "['services.datasets.preprocessing', 'services.models.exports', 'services.models.play.engine', " \
                    "'services.training.runs']", after


def test_no_area_facade_hides_a_module_of_its_package_under_the_same_name() -> None:
    """An area package names its facade's names lazily, a submodule first (services.lazy.package): a facade that
    bound a function to a submodule's name (`model_values`) would hand importers the module instead."""
    import importlib
    import pkgutil
    import types
    hidden = []
    for package in ('services.training', 'services.models', 'services.datasets', 'services.cluster'):
        facade = importlib.import_module(f'{package}.facade')
        for module in pkgutil.iter_modules(importlib.import_module(package).__path__):
            value = getattr(facade, module.name, None)
            if value is not None and not isinstance(value, types.ModuleType):
                hidden.append(f'{package}.facade binds {module.name!r} to a {type(value).__name__}')
    assert not hidden, hidden


def test_the_launcher_imports_and_builds_with_the_collector_paused_then_freezes_and_resumes_it(tmp_path) -> None:
    """`rave-studio` (app.launch): no collection while NiceGUI and the studio are imported and built (~100 ms of
    a launch), then what start-up made is frozen out of later passes and the collector runs again."""
    code = ('import gc, sys; from unittest import mock; import nicegui.ui; before = [s["collections"] for s in '
            'gc.get_stats()]; '
            'said = lambda **_: print([s["collections"] for s in gc.get_stats()] == before, gc.isenabled(), '
            'gc.get_freeze_count()); '
            f'sys.argv = ["rave-studio", "--no-browser", "--data-dir", {str(tmp_path / "data")!r}]; '
            'from app import launch\n'
            'with mock.patch.object(nicegui.ui, "run", said): launch.main()')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300, check=False,
                         cwd=ROOT, env={k: v for k, v in os.environ.items() if not k.startswith(('PYTEST_',
                                                                                                  'NICEGUI_'))})
    assert out.returncode == 0, out.stderr[-3000:]
    paused, enabled, frozen = out.stdout.strip().splitlines()[-1].split()
    assert paused == 'True' and enabled == 'True' and int(frozen) > 50_000, out.stdout


def test_ruff_holds_the_declared_style() -> None:
    """pyproject.toml declares the line length, the lint rules and a complexity cap; the whole checkout keeps
    them (ruff comes with the test extras)."""
    out = subprocess.run([sys.executable, '-m', 'ruff', 'check', '--no-cache', '--output-format', 'concise', '.'],
                         capture_output=True, text=True, timeout=300, check=False, cwd=ROOT)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]


def test_a_lazy_module_imports_on_first_use_even_from_many_threads_at_once() -> None:
    """services/lazy.py: nothing is imported until an attribute is read; threads reading at once all get the
    real names (importlib's LazyLoader on 3.11 let one of them see a half-made module)."""
    code = ('import sys, threading; from services import lazy; m = lazy.module("email.mime.text"); '
            'assert "email.mime.text" not in sys.modules; got = []; '
            'ts = [threading.Thread(target=lambda: got.append(m.MIMEText)) for _ in range(16)]; '
            '[t.start() for t in ts]; [t.join() for t in ts]; '
            'import email.mime.text as real; assert got == [real.MIMEText] * 16; print("ok")')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=60, check=False,
                         cwd=ROOT)
    assert out.stdout.strip() == 'ok', out.stderr
