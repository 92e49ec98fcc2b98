"""No traceback reaches the page: every route of the plugin registry (so a new page is crawled without being
listed here), opened with broken state — a dataset whose folder was deleted, another that is an empty folder, a
run whose folder was removed behind the studio's back with its checkpoints, an export whose file is gone, a
failed job without its folder, and ids that name nothing — shows sentences, never "Traceback" or an exception's
name, and nothing lands in the error history (what the page boundary caught is a bug here too)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from nicegui import app, ui
from nicegui.testing import User

from services.store import Checkpoint, Dataset, Export, Job, Run

PYTHON_WORDS = re.compile(r'Traceback|\b[A-Z][A-Za-z]*(?:Error|Exception)(?:\b|_)|\bErrno\b|File "/')
BAD_IDS = ('999999', 'abc', '-1', '0')
QUERIES = ('/datasets?new', '/training/new?dataset={dataset_id}', '/training/new?from={run_id}',
           '/export?run={run_id}', '/explorer?export={export_id}', '/generate?export={export_id}',
           '/transfer?export={export_id}', '/experiments/compare?runs={run_id},999999', '/experiments/compare?runs=x',
           '/help?doc=nothing&section=nowhere', '/help?faq=nothing')


def broken_state(tmp_path: Path) -> dict[str, int]:
    """Rows whose files are gone, as a user's deletions in a file manager would leave them; their ids."""
    project = app.studio.projects.current(None)
    gone = tmp_path / 'deleted-dataset'
    gone.mkdir()
    shutil.rmtree(gone)
    dataset = Dataset.create(project=project, name='deleted', path=str(gone), status='ready', sr=44100, channels=1,
                             n_examples=12, n_seconds=30.0, params={'num_signal': 65536})
    empty = tmp_path / 'empty-dataset'
    empty.mkdir()
    Dataset.create(project=project, name='empty', path=str(empty), status='ready', sr=44100, channels=1,
                   n_examples=3, params={'num_signal': 65536})
    job = Job.create(project=project, kind='train', title='Train removed', argv=[], status='failed',
                     folder=str(tmp_path / 'no-job-folder'), message='It stopped.')
    run = Run.create(project=project, dataset=dataset, name='removed', folder=str(tmp_path / 'removed-run'),
                     configs=['v2_small'], status='done', step=4, job=job,
                     params={'max_steps': 4, 'val_every': 2, 'n_signal': 65536, 'channels': 1, 'device': 'cpu'})
    Checkpoint.create(run=run, path=str(tmp_path / 'removed-run' / 'version_0' / 'checkpoints' / 'best.ckpt'),
                      step=4, kind='best')
    export = Export.create(project=project, run=run, path=str(tmp_path / 'gone.ts'), status='done', name='gone',
                           checkpoint=str(tmp_path / 'removed-run' / 'best.ckpt'))
    return {'dataset_id': dataset.id, 'run_id': run.id, 'export_id': export.id}


def page_text(client) -> str:
    """Everything the page says: labels, buttons, fields, markdown and the notifications."""
    parts = []
    for element in client.elements.values():
        for value in (getattr(element, 'text', ''), getattr(element, 'content', ''),
                      *(element.props.get(k, '') for k in ('label', 'message', 'hint', 'error-message'))):
            if isinstance(value, str) and value:
                parts.append(value)
    return '\n'.join(parts)


def paths(ids: dict[str, int]) -> list[str]:
    routes = [route.path for route in app.studio.plugins.routes()]
    out = []
    for route in routes:
        names = re.findall(r'\{(\w+)\}', route)
        if not names:
            out.append(route)
            continue
        for value in (*[str(ids[n]) for n in names[:1] if n in ids], *BAD_IDS):
            out.append(re.sub(r'\{\w+\}', value, route))
    return out + [q.format(**ids) for q in QUERIES]


async def test_every_route_with_broken_state_speaks_in_sentences(user: User, tmp_path: Path) -> None:
    ids = broken_state(tmp_path)
    crawled = paths(ids)
    assert len(crawled) > 40 and '/settings/diagnostics' in crawled
    found = {}
    for path in crawled:
        await user.open(path)
        await user.should_see('RAVE Studio')
        said = page_text(user.client) + '\n' + '\n'.join(user.notify.messages)
        words = sorted(set(PYTHON_WORDS.findall(said)))
        if words:
            found[path] = words
    assert found == {}
    assert [(p.where, p.what) for p in app.studio.diagnostics.history() if p.job_id is None] == []
    for path, sentence in ((f'/datasets/{ids["dataset_id"]}', 'holds no RAVE dataset any more'),
                           (f'/training/runs/{ids["run_id"]}', 'The run folder'),
                           (f'/export/view/{ids["export_id"]}', 'is gone (moved or deleted outside the studio)')):
        await user.open(path)
        await user.should_see(sentence)
    started = [j for j in Job.select() if j.kind != 'train']
    assert started == [], 'a page started a job on broken state (it can only fail on the missing files)'


async def test_the_crawl_sees_an_exception_name(user: User) -> None:
    """The rule itself: a page that shows an exception's name fails the crawl."""
    await user.open('/help')
    with user.client.layout:
        ui.label("Could not read: FileNotFoundError(2, 'No such file')")
        ui.label('No GPU (NVMLError_LibraryNotFound)')
    assert PYTHON_WORDS.findall(page_text(user.client)) == ['FileNotFoundError', 'NVMLError_']
