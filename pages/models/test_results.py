"""A finished model test: the aggregate figures, the table of files with their metrics, and for the file picked
its original beside the reconstruction — one A/B transport at the same position, both waveforms overlaid, and
the two spectrograms with their difference."""
from __future__ import annotations

from nicegui import run, ui

from app import theme
from components.audio import media_url
from components.charts import chart_layout
from components.spectrogram import spectrogram
from pages.models.ab_player import ABPlayer
from services import formatting
from services.i18n import N_, _, ngettext
from services.models.testing import LABELS, ModelTests, TestedFile, TestView
from services.models.views import Envelope
from services.projects import ProjectView

# what each column measures, in its header's tooltip
TIPS = {'mrstft': N_('Multi-resolution STFT distance (auraloss): lower is better.'),
        'mel': N_('Mel-spectrogram distance, 128 bands (auraloss): lower is better.'),
        'si_sdr': N_('Scale-invariant signal-to-distortion ratio in dB: higher is better.'),
        'lufs_diff': N_('Loudness of the reconstruction minus the original (ITU-R BS.1770): nearer 0 is better.'),
        'pesq': N_('Speech metric: PESQ wide band (ITU-T P.862.2) on the mono mix at 16 kHz, from 1 (bad) to 4.6 '
                   '(transparent). Meaningful on speech only.'),
        'stoi': N_('Speech metric: STOI, short-time objective intelligibility, from 0 to 1 (higher is better). '
                   'Meaningful on speech only.')}


def create(model_tests: ModelTests, project: ProjectView, view: TestView) -> None:
    with ui.card().classes(theme.CARD + ' gap-2').mark('test-aggregate'):
        with ui.row().classes('w-full items-baseline gap-2'):
            ui.label(_('Results')).classes(theme.SECTION)
            audio_s = sum(f.seconds for f in view.files)
            speed = ' · ' + _('{speed}× real time').format(speed=formatting.number(audio_s / view.model_seconds, 1)) \
                if view.model_seconds else ''
            ui.label(ngettext('{count} file, {seconds} s of audio', '{count} files, {seconds} s of audio',
                              len(view.files)).format(count=len(view.files), seconds=formatting.number(audio_s, 1))
                     + f'{speed} · {formatting.number(view.sr / 1000)} kHz') \
                .classes(theme.HINT)
        with ui.row().classes('w-full gap-6'):
            for key, value in view.aggregate:
                label, better = LABELS.get(key, (key, ''))
                with ui.column().classes('gap-0').mark(f'aggregate-box-{key}') as box:
                    if key in TIPS:
                        box.tooltip(_(TIPS[key]))
                    ui.label(_(label)).classes(theme.HINT)
                    ui.label(formatting.significant(value, 3)).classes('text-xl font-semibold ' + theme.NUMBER) \
                        .mark(f'aggregate-{key}')
                    ui.label(_(better) if better else '').classes('text-xs text-gray-500')
        ui.label(_('Means over the files. STFT and mel distances as auraloss computes them; SI-SDR in dB; loudness '
                   'by ITU-R BS.1770 (pyloudnorm){speech}. No perceptual embedding distance (FAD): no package on the '
                   'registry ships its model weights, and nothing may download at run time.').format(
                     speech=_('; PESQ and STOI, speech metrics, at 16 kHz') if view.speech else '')).classes(theme.HINT)
    columns = [{'name': 'name', 'label': _('File'), 'field': 'name', 'align': 'left', 'sortable': True},
               {'name': 'seconds', 'label': _('Length (s)'), 'field': 'seconds', 'sortable': True}]
    columns += [{'name': k, 'label': _(LABELS[k][0]), 'field': k, 'sortable': True} for k in view.metric_keys]
    rows = [{'i': i, 'name': f.name, 'seconds': round(f.seconds, 2),
             **{k: _round(f.metrics.get(k)) for k in view.metric_keys}} for i, f in enumerate(view.files)]
    table = ui.table(columns=columns, rows=rows, row_key='i').props('flat bordered dense') \
        .classes('w-full').mark('test-table')
    for key in view.metric_keys:
        table.add_slot(f'header-cell-{key}', '<q-th :props="props">{{ props.col.label }}'
                       f'<q-tooltip max-width="320px">{_(TIPS[key])}</q-tooltip></q-th>')
    detail = ui.column().classes('w-full gap-4').mark('test-detail')

    async def pick(i: int) -> None:
        detail.clear()
        with detail:
            await _compare(model_tests, project, view.files[i])
    table.on('row-click', lambda e: pick(int(e.args[1]['i'])))
    ui.timer(0.01, lambda: pick(0), once=True)


async def _compare(model_tests: ModelTests, project: ProjectView, tested: TestedFile) -> None:
    with ui.card().classes(theme.CARD + ' gap-3').mark('test-compare'):
        with ui.row().classes('w-full items-baseline gap-2'):
            ui.label(tested.name).classes(theme.SECTION)
            ui.label(' · '.join(f'{_(LABELS[k][0])} {formatting.significant(v, 3)}' for k, v in tested.metrics.items()
                                if v is not None and k in LABELS)).classes(theme.HINT)
        ABPlayer(_('Original'), media_url(project, tested.input), _('Reconstruction'),
                 media_url(project, tested.output), mark='test-ab')
        ui.html(_overlay(tested.input_envelope, tested.output_envelope), sanitize=False) \
            .classes('w-full rounded-md bg-gray-50 dark:bg-gray-900').mark('test-waveforms')
        with ui.row().classes('gap-4 text-xs'):
            ui.label(_('■ original')).style('color: #9CA3AF')
            ui.label(_('■ reconstruction')).style(f'color: {theme.ACCENT}')
        spinner = ui.spinner(size='md')
    spectra = await run.io_bound(model_tests.comparison, tested)
    spinner.delete()
    with ui.element('div').classes('w-full grid grid-cols-1 xl:grid-cols-3 gap-4').mark('test-spectrograms'):
        for title, key in ((N_('Original'), 'input'), (N_('Reconstruction'), 'output')):
            with ui.card().classes(theme.CARD + ' gap-1'):
                ui.label(_(title)).classes(theme.SECTION)
                spectrogram(spectra[key], height='h-48')
        with ui.card().classes(theme.CARD + ' gap-1'):
            ui.label(_('Difference (reconstruction − original)')).classes(theme.SECTION)
            ui.plotly(_difference(spectra['difference'])).classes('w-full h-48')


def _overlay(original: Envelope, rebuilt: Envelope, height: int = 110) -> str:
    """Both envelopes as filled shapes in one SVG: the original grey under the accent reconstruction."""
    def shape(envelope: Envelope) -> str:
        highs, lows = envelope.high or (0.0,), envelope.low or (0.0,)
        top = ' '.join(f'{i},{50 - 48 * max(min(v, 1), -1):.1f}' for i, v in enumerate(highs))
        bottom = ' '.join(f'{i},{50 - 48 * max(min(v, 1), -1):.1f}' for i, v in reversed(list(enumerate(lows))))
        return f'{top} {bottom}'
    n = max(len(original.high), len(rebuilt.high), 2)
    return (f'<svg viewBox="0 0 {n - 1} 100" preserveAspectRatio="none" style="width:100%;height:{height}px;'
            f'display:block"><polygon points="{shape(original)}" fill="#9CA3AF" fill-opacity="0.6"/>'
            f'<polygon points="{shape(rebuilt)}" fill="{theme.ACCENT}" fill-opacity="0.55"/></svg>')


def _difference(spec: dict) -> dict:
    layout = chart_layout()
    layout['margin'] = {'l': 52, 'r': 8, 't': 6, 'b': 38}
    layout['xaxis'].update(title={'text': _('time (s)'), 'standoff': 4}, showgrid=False)
    layout['yaxis'].update(title={'text': _('frequency (Hz)'), 'standoff': 4}, showgrid=False, type='log',
                           tickvals=[100, 1000, 10000], ticktext=['100', '1k', '10k'])
    trace = {'type': 'heatmap', 'z': spec['db'][1:], 'x': spec['times'], 'y': spec['freqs'][1:], 'zmid': 0,
             'zmin': -40, 'zmax': 40, 'colorscale': 'RdBu', 'reversescale': True, 'zsmooth': 'fast',
             'colorbar': {'title': {'text': 'dB', 'side': 'right'}, 'thickness': 10, 'outlinewidth': 0},
             'hovertemplate': '%{x:.2f} s · %{y:.0f} Hz · %{z} dB<extra></extra>'}
    return {'data': [trace], 'layout': layout, 'config': {'displaylogo': False, 'displayModeBar': False}}


def _round(value: float | None) -> float | None:
    return None if value is None else float(f'{value:.4g}')
