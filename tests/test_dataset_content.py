"""The doctor reads the audio, not only its headers: silence, DC offset, hard clipping and NaN/inf in float WAVs
are found by a sampled read of each file and explained (what it does to the model, what to do) — through the
service and through the wizard's review."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from nicegui.testing import User
from rave_fixtures import synth_audio

from services.access import local
from services.datasets import PreprocessSpec, content

SR = 44100


def tone(seconds: float = 6.0, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return amplitude * (np.sin(2 * np.pi * 220 * t) + 0.3 * np.sin(2 * np.pi * 660 * t)) / 1.3


def write(folder: Path, name: str, data: np.ndarray, subtype: str = 'PCM_16') -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    sf.write(path, data.astype(np.float32), SR, subtype=subtype)
    return path


def problems(data_dir: Path) -> dict[str, Path]:
    """One file per problem the scan must find, and a clean one."""
    folder = data_dir / 'problems'
    nan = tone()
    nan[SR:SR + 50] = np.nan
    inf = tone()
    inf[2 * SR:2 * SR + 5] = np.inf
    mostly = np.concatenate([np.zeros(5 * SR), tone(1.0)])
    return {'silent': write(folder, 'silent.wav', np.zeros(6 * SR)),
            'dc': write(folder, 'offset.wav', tone() + 0.2),
            'clipped': write(folder, 'clipped.wav', np.clip(tone(amplitude=3.0), -1, 1)),
            'nan': write(folder, 'nan.wav', nan, 'FLOAT'),
            'inf': write(folder, 'inf.wav', inf, 'FLOAT'),
            'mostly': write(folder, 'mostly silence.wav', mostly),
            'clean': write(folder, 'clean.wav', tone())}


def test_each_problem_is_measured(data_dir: Path) -> None:
    files = problems(data_dir)
    found = {c.path: c for c in content.scan(list(files.values()))[0]}
    assert found[files['silent']].silent
    assert found[files['dc']].dc > 0.15 and not found[files['dc']].clipped
    assert found[files['clipped']].clipped
    assert found[files['nan']].nonfinite >= 1 and found[files['inf']].nonfinite >= 1
    assert found[files['mostly']].silent_share >= 0.5 and not found[files['mostly']].silent
    clean = found[files['clean']]
    assert not (clean.silent or clean.clipped or clean.nonfinite) and clean.dc < 0.01
    assert clean.silent_share == 0


def test_real_music_like_audio_and_a_full_scale_sine_are_not_flagged(data_dir: Path) -> None:
    paths = synth_audio(data_dir / 'music', n_files=3, seconds=5.0)
    t = np.arange(5 * SR) / SR
    paths.append(write(data_dir / 'music', 'full scale 50 Hz.wav', 0.9999 * np.sin(2 * np.pi * 50 * t)))
    found, not_scanned = content.scan(paths)
    assert not_scanned == 0 and len(found) == 4
    assert not any(c.silent or c.clipped or c.nonfinite or c.dc >= content.DC_OFFSET for c in found), found


def test_the_doctor_says_what_each_means_for_training(studio, data_dir: Path) -> None:
    files = problems(data_dir)
    project = studio.projects.current(None)
    datasets = studio.session(local(), None).datasets
    spec = PreprocessSpec(name='problems', inputs=(str(files['clean'].parent),), num_signal=16384)
    findings = datasets.doctor(project.id, spec)
    said = {f.text: f for f in findings}

    def finding(words: str):
        matches = [f for text, f in said.items() if words in text]
        assert len(matches) == 1, (words, list(said))
        return matches[0]

    nan = finding('NaN or infinite values')
    assert nan.severity == 'warning' and 'crashes' in nan.text and 'click' in nan.text
    assert {Path(line.split(' — ')[0]) for line in nan.files} == {files['nan'], files['inf']}
    silent = finding('is silent')
    assert 'teach the model silence' in silent.text and silent.files == (str(files['silent']),)
    dc = finding('DC offset')
    assert 'thumps' in dc.text and 'highpass' in dc.text and dc.files[0].startswith(str(files['dc']))
    clipped = finding('hard-clipped')
    assert 'harsh distortion' in clipped.text and clipped.files[0].startswith(str(files['clipped']))
    mostly = finding('mostly silence')
    assert mostly.severity == 'info' and mostly.files[0].startswith(str(files['mostly']))
    assert not any('clean.wav' in line for f in findings for line in f.files)
    assert not [f for f in findings if f.severity == 'blocker']  # they spoil a model, they do not stop RAVE


def test_a_folder_of_pure_silence_says_so(studio, data_dir: Path) -> None:
    for i in range(3):
        write(data_dir / 'quiet', f'take {i}.wav', np.zeros(4 * SR))
    project = studio.projects.current(None)
    datasets = studio.session(local(), None).datasets
    spec = PreprocessSpec(name='quiet', inputs=(str(data_dir / 'quiet'),), num_signal=16384)
    texts = [f.text for f in datasets.doctor(project.id, spec)]
    assert any(t.startswith('Every file is silent') and 'plays nothing' in t for t in texts), texts


def test_the_scan_is_sampled_and_fast(data_dir: Path) -> None:
    long = write(data_dir / 'long', 'ten minutes.wav', np.tile(tone(1.0), 600))
    started = time.monotonic()
    found, _ = content.scan([long])
    assert time.monotonic() - started < 5.0  # reads 16 × 0.25 s of the 10 min, not the whole file
    assert not found[0].silent and found[0].silent_share == 0


def test_many_files_are_sampled_and_the_rest_counted(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(content, 'MAX_FILES', 4)
    paths = [write(data_dir / 'many', f'{i}.wav', np.zeros(SR)) for i in range(10)]
    (data_dir / 'many' / 'not audio.wav').write_bytes(b'RIFF nonsense')
    found, not_scanned = content.scan([*paths, data_dir / 'many' / 'not audio.wav'])
    assert len(found) == 4 and not_scanned == 7


async def test_the_wizard_review_shows_the_content_findings(user: User, data_dir: Path) -> None:
    problems(data_dir)
    await user.open('/datasets?new')
    user.find(marker='name').type('problems')
    user.find(marker='next-name').click()
    await user.should_see('Input folders')
    user.find(marker='folder-path').type(str(data_dir / 'problems')).trigger('keydown.enter')
    await user.should_see('7 files', retries=100)
    user.find(marker='next-sources').click()
    user.find(marker='num_signal').elements.pop().set_value(16384)
    user.find(marker='next-params').click()
    await user.should_see('NaN or infinite values', retries=300)
    for words in ('DC offset', 'hard-clipped', 'is silent', 'mostly silence'):
        await user.should_see(words)
    assert user.find(marker='start').elements.pop().enabled  # warnings: the user decides
