"""Reports of a run or a comparison: one self-contained HTML file (plotly.js embedded, no network), the same
report as PDF through headless Chromium (its first page rendered to PNG where pdftoppm is installed)."""
from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from services.access import local
from services.models import report
from services.store import Run
from services.training.metrics import Series
from services.training.spec import RunSpec
from services.training.views import AudioExample, AudioValidation


class Parsed(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == 'script'

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def make(studio, name: str, capacity: int) -> Run:
    project = studio.projects.current(None)
    spec = RunSpec(name=name, macros={'CAPACITY': capacity}, description=f'{name} try')
    run = Run.create(project=project, name=name, configs=list(spec.configs), params={'spec': spec.to_dict()},
                     status='done', step=100, seconds=50.0, best_validation=2.0, last_loss=1.0)
    series = Series()
    for step in range(1, 101):
        series.add({'step': step, 'loss': 1 + 1 / step, 't': float(step)})
    series.add({'step': 100, 'event': 'validation', 'validation': 2.0})
    studio.training.series[run.id] = series
    return run


def audio_of(folder: Path):
    folder.mkdir(parents=True, exist_ok=True)
    for name in ('in.wav', 'out.wav'):
        sf.write(folder / name, (0.2 * np.sin(np.arange(4410) / 10)).astype(np.float32), 44100)
    example = AudioExample(str(folder / 'in.wav'), str(folder / 'out.wav'), {}, {}, 0.1)
    return lambda run_id: [AudioValidation('#1 · step 100', 'version_0', 44100, (example,))]


def test_comparison_report_is_one_self_contained_file(studio, tmp_path: Path) -> None:
    runs = [make(studio, 'narrow', 32), make(studio, 'wide', 64)]
    experiments = studio.session(local(), None).experiments
    page = report.html_report(experiments, audio_of(tmp_path), [r.id for r in runs], str)
    parsed = Parsed()
    parsed.feed(page)
    assert not [a for t, a in parsed.tags if t in ('script', 'link', 'img') and (a.get('src') or a.get('href'))]
    assert any('Plotly' in s and len(s) > 1_000_000 for s in parsed.scripts)  # plotly.js itself, embedded
    assert sum('Plotly.newPlot' in s for s in parsed.scripts) == 2  # validation and loss
    audio = [a['src'] for t, a in parsed.tags if t == 'audio']
    assert len(audio) == 4 and all(src.startswith('data:audio/wav;base64,') for src in audio)
    assert 'Parameters that differ' in page and '<td>Capacity</td><td>32</td><td>64</td>' in page
    assert '2 runs compared' in page and 'narrow try' in page


def test_run_report_has_its_spec_and_command(studio, tmp_path: Path) -> None:
    run = make(studio, 'solo', 48)
    page = report.html_report(studio.session(local(), None).experiments, audio_of(tmp_path), [run.id], str)
    assert '<h1>solo</h1>' in page and 'RunSpec' in page and 'rave train' in page
    with pytest.raises(report.ReportError, match='1 to 20'):
        report.html_report(studio.session(local(), None).experiments, audio_of(tmp_path), [], str)


@pytest.mark.skipif(not Path('/usr/bin/chromium').exists(), reason='PDF printing needs Chromium')
def test_pdf_from_the_same_report(studio, tmp_path: Path) -> None:
    runs = [make(studio, 'narrow', 32), make(studio, 'wide', 64)]
    page = report.html_report(studio.session(local(), None).experiments, audio_of(tmp_path), [r.id for r in runs],
                              str)
    pdf = report.pdf_of(page)
    assert pdf.startswith(b'%PDF') and pdf.count(b'/Type /Page') + pdf.count(b'/Type/Page') >= 2
    (tmp_path / 'report.pdf').write_bytes(pdf)
    if shutil.which('pdftoppm') is None:
        pytest.skip('pdftoppm is not installed: the PDF is checked, its first page not rendered to PNG')
    subprocess.run(['pdftoppm', '-png', '-f', '1', '-l', '1', str(tmp_path / 'report.pdf'), str(tmp_path / 'p')],
                   check=True, timeout=60)
    assert list(tmp_path.glob('p*.png'))
