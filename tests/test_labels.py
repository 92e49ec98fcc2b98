"""Every form control on every page says what it is and what it does: a label (its own, its text or an
accessible name) and a one-line hint (Quasar's hint, a tooltip, a title, or the hint line right under it or
under its row, in theme.HINT's style).

The training pages belong to the training area: what they lack is listed in TRAINING_GAPS (the test fails when
that list is wrong either way, so it shrinks as they gain hints)."""
from __future__ import annotations

import shutil
from pathlib import Path

from nicegui import app, ui
from nicegui.testing import User
from rave_fixtures import register_dataset

from app.theme import HINT as HINT_CLASSES
from pages import ROUTES
from services.store import Run

HINT = set(HINT_CLASSES.split())
CONTROLS = (ui.input, ui.number, ui.textarea, ui.select, ui.checkbox, ui.switch, ui.slider, ui.range, ui.toggle,
            ui.radio, ui.color_input, ui.knob, ui.upload)
TRAINING_GAPS: dict[str, list[str]] = {}  # route → controls without a label or a hint, for the training helper


async def test_every_form_control_has_a_label_and_a_hint(user: User, rave_db: Path, tmp_path: Path) -> None:
    own = tmp_path / 'tones'  # the pages write caches into a dataset folder: never into the shared fixture
    shutil.copytree(rave_db, own)
    dataset = register_dataset(app.studio, own)
    run = Run.create(project=app.studio.projects.current(None), name='tiny', folder='', configs=['v2_small'],
                     status='done', step=4, params={'max_steps': 4, 'val_every': 2, 'n_signal': 65536,
                                                    'channels': 1, 'device': 'cpu'})
    found: dict[str, list[str]] = {}
    for route in [*ROUTES, '/datasets?new', '/training/new?dataset={dataset_id}']:
        await user.open(route.replace('{dataset_id}', str(dataset.id)).replace('{run_id}', str(run.id)))
        await user.should_see('RAVE Studio')
        if lacking := gaps(user.client):
            found[route] = lacking
    training = {route: lacking for route, lacking in found.items() if route.startswith('/training')}
    others = {route: lacking for route, lacking in found.items() if route not in training}
    assert others == {}
    assert training == TRAINING_GAPS


async def test_the_walk_sees_a_control_without_a_hint(user: User) -> None:
    """The rule itself: a bare field fails, each kind of hint passes."""
    await user.open('/help')
    with user.client.layout, ui.column() as column:
        ui.input('Bare')
        ui.input('Hinted').props('hint="Something"')
        ui.input('Tipped').tooltip('Something')
        ui.input('Lined')
        ui.label('Something').classes(HINT_CLASSES)
        with ui.row():
            ui.input('In a row')
            ui.button('Add')
        ui.label('Something').classes(HINT_CLASSES)
        ui.switch()
    assert gaps(column.client, within=column) == ["Input 'Bare': no hint", 'Switch: no label and no hint']


def gaps(client, within: ui.element | None = None) -> list[str]:
    """'Kind 'label': no label/hint' for each form control of the page that lacks one."""
    elements = within.descendants() if within is not None else client.elements.values()
    tips = {e.props.get('target'): e.text for e in client.elements.values() if isinstance(e, ui.tooltip)}
    out = []
    for control in (e for e in elements if isinstance(e, CONTROLS)):
        label = label_of(control)
        missing = [what for what, said in (('label', label), ('hint', hint_of(control, tips))) if not said]
        if missing:
            out.append(f'{type(control).__name__}{f" {label!r}" if label else ""}: no {" and no ".join(missing)}')
    return out


def label_of(control: ui.element) -> str:
    props = control.props
    return str(props.get('label') or props.get('aria-label') or getattr(control, 'text', '') or '').strip()


def hint_of(control: ui.element, tips: dict[str, str]) -> str:
    props = control.props
    said = props.get('hint') or props.get('title') or tips.get(f'#{control.html_id}')
    if said:
        return str(said)
    if _hint_after(control) or (isinstance(control.parent_slot.parent, ui.row)
                                and _hint_after(control.parent_slot.parent)):
        return 'the line below'
    return ''


def _hint_after(element: ui.element) -> bool:
    siblings = element.parent_slot.children if element.parent_slot else []
    after = siblings[siblings.index(element) + 1:][:1]
    return bool(after) and isinstance(after[0], ui.label) and HINT <= set(after[0].classes)
