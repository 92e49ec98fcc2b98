"""A report of one run or a comparison of runs: one self-contained HTML file (the plotly.js the plotly package
ships embedded, charts as figures, the last validation's audio embedded as data URIs) and a PDF printed from
that same HTML by headless Chromium.

It is built from the facades' answers (each checks the acting user), so a report shows only what its reader
may read. Blocking (reads metrics, TensorBoard audio, runs Chromium): call it off the event loop.
"""
from __future__ import annotations

import base64
import html
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from services import formatting
from services.i18n import lazy
from services.training.compare import MAX_RUNS, MIN_RUNS
from services.training.experiments import Experiments

CHROMIUM = ('/usr/bin/chromium', 'chromium', 'chromium-browser', 'google-chrome')
MAX_AUDIO_BYTES = 4 << 20  # per clip; a longer one is left out rather than making the report huge
CHARTS = (('val/validation', 'Validation'), ('loss', 'Training loss'))
PALETTE = ('#6C5CE7', '#00B894', '#E17055', '#0984E3', '#FDCB6E', '#D63031', '#00CEC9', '#E84393')


class ReportError(RuntimeError):
    """A report that cannot be made, in words."""


def html_report(experiments: Experiments, audio_of, run_ids: list[int], resolve) -> str:
    """The report of one run (one id) or a comparison (2–20 ids). `audio_of(run_id)` gives the run's
    validation audio (Training.audio); `resolve(path)` makes its data-folder paths absolute."""
    ids = list(dict.fromkeys(int(i) for i in run_ids))
    if not 1 <= len(ids) <= MAX_RUNS:
        raise ReportError(lazy('A report covers 1 to {most} runs ({asked} asked).', most=MAX_RUNS, asked=len(ids)))
    rows = experiments.table_rows(ids)
    if len(rows) != len(ids):
        raise ReportError(lazy('A run of this report does not exist any more.'))
    title = rows[0].name if len(ids) == 1 else f'{len(ids)} runs compared'
    sections = [_facts(rows)]
    if len(ids) >= MIN_RUNS:
        comparison = experiments.compare(ids)
        sections.append(_table('Parameters that differ', ['Parameter', *(r.name for r in rows)],
                               [[p.label, *p.values] for p in comparison.differing()] or
                               [['(none: the same parameters)', *([''] * len(rows))]]))
    else:
        details = experiments.details(ids[0])
        sections.append(_table('RunSpec', ['Choice', 'Value'],
                               [[k, _text(v)] for k, v in details.spec.to_dict().items()]))
        sections.append(f'<h2>Equivalent command</h2><pre>{html.escape(details.command)}</pre>')
    charts = [_chart(experiments, ids, key, label) for key, label in CHARTS]
    sections.append('<h2>Curves</h2>' + ''.join(c for c in charts if c))
    sections.append(_audio(audio_of, rows, resolve))
    return _page(title, ''.join(sections))


def pdf_of(report_html: str) -> bytes:
    """The same report printed to PDF by headless Chromium (A4, the charts drawn before printing)."""
    browser = next((b for b in CHROMIUM if shutil.which(b)), None)
    if browser is None:
        raise ReportError(lazy('PDF needs Chromium (or Chrome) on this machine; the HTML report works without it.'))
    with tempfile.TemporaryDirectory(prefix='rave-report-') as tmp:
        page, out = Path(tmp) / 'report.html', Path(tmp) / 'report.pdf'
        page.write_text(report_html)
        done = subprocess.run([shutil.which(browser), '--headless', '--no-sandbox', '--disable-gpu',
                               '--no-pdf-header-footer', '--virtual-time-budget=8000', f'--print-to-pdf={out}',
                               page.as_uri()], capture_output=True, text=True, timeout=180, check=False)
        if not out.exists():
            raise ReportError('Chromium did not print the report: ' + (done.stderr.strip().splitlines() or
                                                                        ['no message'])[-1][:300])
        return out.read_bytes()


def _facts(rows) -> str:
    head = ['Run', 'Status', 'Dataset', 'Config', 'Steps', 'Best validation', 'Last loss', 'Training time',
            'Device time', 'Created']
    body = [[r.name, r.status, r.dataset or '—', ' + '.join(r.configs) or '—', f'{r.steps:,}',
             _n(r.best_validation), _n(r.last_loss), _duration(r.seconds),
             r.device_time.label if r.device_time else '—', f'{r.created:%Y-%m-%d %H:%M}'] for r in rows]
    notes = ''.join(f'<p><b>{html.escape(r.name)}</b>: {html.escape(r.description or r.notes)}</p>'
                    for r in rows if r.description or r.notes)
    return _table('Runs', head, body) + notes


def _chart(experiments: Experiments, ids: list[int], key: str, label: str) -> str:
    traces = experiments.overlay(ids, key)
    if not traces:
        return ''
    data = [{'type': 'scatter', 'mode': 'lines+markers' if len(t.steps) < 40 else 'lines', 'name': t.name,
             'x': list(t.steps), 'y': list(t.values), 'line': {'color': PALETTE[i % len(PALETTE)], 'width': 1.6}}
            for i, t in enumerate(traces)]
    layout = {'title': {'text': label}, 'height': 320, 'margin': {'l': 56, 'r': 16, 't': 40, 'b': 40},
              'xaxis': {'title': {'text': 'step'}}, 'hovermode': 'x unified', 'paper_bgcolor': 'white',
              'plot_bgcolor': 'white', 'legend': {'orientation': 'h'}}
    div = f'chart-{key.replace("/", "-")}'
    return (f'<div class="chart" id="{div}"></div><script>Plotly.newPlot("{div}", {json.dumps(data)}, '
            f'{json.dumps(layout)}, {{"displaylogo": false, "staticPlot": false}});</script>')


def _audio(audio_of, rows, resolve) -> str:
    parts = ['<h2>Audio: the last validation</h2>']
    for row in rows:
        validations = audio_of(row.id)
        examples = validations[-1].examples if validations else ()
        if not examples:
            parts.append(f'<p>{html.escape(row.name)}: no validation audio logged.</p>')
            continue
        example = examples[0]
        clips = ''.join(f'<figure><figcaption>{what}</figcaption>{_clip(Path(resolve(path)))}</figure>'
                        for what, path in (('Input', example.input), ('Reconstruction', example.reconstruction)))
        parts.append(f'<h3>{html.escape(row.name)} · {html.escape(validations[-1].label)}</h3>'
                     f'<div class="clips">{clips}</div>')
    return ''.join(parts)


def _clip(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return '<p>(missing)</p>'
    if len(data) > MAX_AUDIO_BYTES:
        return '<p>(too long to embed)</p>'
    return f'<audio controls src="data:audio/wav;base64,{base64.b64encode(data).decode()}"></audio>'


def _table(title: str, head: list[str], body: list[list[str]]) -> str:
    th = ''.join(f'<th>{html.escape(h)}</th>' for h in head)
    tr = ''.join('<tr>' + ''.join(f'<td>{html.escape(str(c))}</td>' for c in row) + '</tr>' for row in body)
    return f'<h2>{html.escape(title)}</h2><table><thead><tr>{th}</tr></thead><tbody>{tr}</tbody></table>'


def _page(title: str, body: str) -> str:
    import plotly.offline  # the plotly.js this installation ships: the report needs no network
    return f'''<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta name="generator" content="RAVE Studio"><style>
body {{ font: 14px/1.45 system-ui, sans-serif; color: #1f2330; margin: 32px auto; max-width: 1000px; }}
h1 {{ font-size: 24px; margin: 0 0 4px; }} h2 {{ font-size: 17px; margin-top: 28px; border-bottom: 1px solid #ddd; }}
table {{ border-collapse: collapse; width: 100%; font-size: 12px; }}
th, td {{ text-align: left; padding: 4px 8px; border-bottom: 1px solid #eee; vertical-align: top; }}
th {{ color: #666; font-weight: 600; }} pre {{ white-space: pre-wrap; word-break: break-all; font-size: 11px;
background: #f6f6f8; padding: 8px; border-radius: 6px; }} .chart {{ break-inside: avoid; }}
.clips {{ display: flex; gap: 16px; flex-wrap: wrap; }} figure {{ margin: 0; }} figcaption {{ color: #666; }}
@media print {{ body {{ margin: 12mm; }} audio {{ display: none; }} }}
</style><script>{plotly.offline.get_plotlyjs()}</script></head><body>
<h1>{html.escape(title)}</h1><p style="color:#666">A RAVE Studio report</p>{body}</body></html>'''


def _text(value) -> str:
    if isinstance(value, dict):
        return ', '.join(f'{k}={v}' for k, v in value.items()) or '—'
    if isinstance(value, (list, tuple)):
        return ', '.join(map(str, value)) or '—'
    return '—' if value in (None, '') else str(value)


def _n(value: float | None) -> str:
    return f'{value:.4g}' if value is not None else '—'


def _duration(seconds: float | None) -> str:
    return formatting.duration(seconds) if seconds else '—'
