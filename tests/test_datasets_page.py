"""The Datasets page as a user meets it: empty state, the form, validation, a real preprocessing run."""
from __future__ import annotations

from pathlib import Path

from nicegui import app
from nicegui.testing import User
from rave_fixtures import synth_audio

from services.datasets import example_seconds
from services.store import Dataset


async def test_empty_state_explains_datasets(user: User) -> None:
    await user.open('/datasets')
    await user.should_see('No datasets yet')
    await user.should_see('training material for a RAVE model')
    user.find(marker='new').click()
    await user.should_see('Input folders')
    await user.should_see('Each example holds 2 × num_signal = 262 144 samples = 5.94 s of audio')


async def test_a_folder_outside_the_roots_is_refused(user: User, tmp_path: Path) -> None:
    outside = tmp_path / 'elsewhere'
    synth_audio(outside, n_files=1, seconds=1.0)
    await user.open('/datasets')
    user.find(marker='new').click()
    await user.should_see(marker='folder-path')
    user.find(marker='folder-path').type(str(outside))
    user.find(marker='add-folder').click()
    await user.should_see('is outside the browsable folders')


async def test_validation_messages_before_launch(user: User, data_dir: Path) -> None:
    (data_dir / 'silence').mkdir()
    await user.open('/datasets')
    user.find(marker='new').click()
    await user.should_see(marker='folder-path')
    user.find(marker='folder-path').type(str(data_dir / 'silence'))
    user.find(marker='add-folder').click()
    await user.should_see(str(data_dir / 'silence'))
    user.find(marker='start').click()
    await user.should_see('Give the dataset a name.', retries=100)
    await user.should_see('No audio files ending in', retries=100)
    assert Dataset.select().count() == 0


async def test_preprocess_from_the_page_until_ready(user: User, data_dir: Path) -> None:
    synth_audio(data_dir / 'audio', n_files=2, seconds=4.0)
    await user.open('/datasets')
    user.find(marker='new').click()
    await user.should_see(marker='folder-path')
    user.find(marker='name').type('tones')
    user.find(marker='folder-path').type(str(data_dir / 'audio'))
    user.find(marker='add-folder').click()
    await user.should_see('2 files · 8 s of audio', retries=100)
    num_signal = user.find(marker='num_signal').elements.pop()
    num_signal.set_value(16384)
    await user.should_see('0.74 s of audio')
    user.find(marker='start').click()
    await user.should_see('Building "tones"', retries=100)
    await user.should_see('rave preprocess --input_path')

    await user.should_see('ready', retries=900)  # the studio's poller sees the job end; ~90 s at most
    dataset = Dataset.get(Dataset.name == 'tones')
    assert dataset.status == 'ready'
    assert dataset.n_examples == 2 * int(4.0 // example_seconds(16384, 44100))
    assert app.studio.jobs.states[dataset.job_id].status == 'done'

    await user.open(f'/datasets/{dataset.id}')
    await user.should_see(dataset.path)
    await user.should_see('Made with')
    user.find(marker='delete').click()
    await user.should_see('Your source audio is never touched')
    user.find(marker='confirm').click()
    await user.should_see('its folder was kept', retries=50)
    assert Dataset.select().count() == 0
    assert Path(dataset.path, 'data.mdb').exists()
