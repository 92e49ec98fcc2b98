"""The Statistics tab of a dataset: computed once by a worker job, then drawn from the cache beside the dataset."""
from __future__ import annotations

import datetime as dt
import statistics as st

from nicegui import ui

from app import theme
from components.charts import chart_layout
from components.waveform import waveform
from services import formatting
from services.datasets import Datasets, DatasetView, StatisticsView
from services.events import JobsChanged, Subscriber
from services.i18n import _, ngettext
from services.jobs import Jobs

QUIET_DB = -50.0  # an example whose RMS is below this is mostly silence


def statistics(datasets: Datasets, jobs: Jobs, events: Subscriber, dataset: DatasetView) -> None:
    """Charts from the cached statistics; while they are computed, a progress card that turns into them."""
    if not dataset.ready:
        with ui.card().classes(theme.CARD + ' items-center py-10 gap-2').mark('stats-unavailable'):
            ui.icon('hourglass_empty', color='grey-5').classes('text-4xl')
            ui.label(_('Statistics appear once the dataset is ready.')).classes('text-sm')
        return
    shown = {'view': datasets.statistics(dataset.id)}  # asks once: starts the job when nothing is cached
    progress: dict = {}  # the computing card's bar and line, while it shows

    @ui.refreshable
    def body() -> None:
        view = shown['view']
        progress.clear()
        if view.phase == 'charts':
            _charts(view.stats, on_recompute=_recompute)
        elif view.phase == 'failed':
            _failed(view.message, on_retry=_recompute)
        else:
            progress.update(_computing(view))

    def _recompute() -> None:
        shown['view'] = datasets.recompute_statistics(dataset.id)
        body.refresh()

    def _job_changed(event: JobsChanged) -> None:
        job_id = shown['view'].job_id
        if shown['view'].phase != 'computing' or (event.job_ids and job_id not in event.job_ids):
            return
        view = shown['view'] = datasets.statistics(dataset.id)
        if view.phase != 'computing':
            body.refresh()
        elif progress:
            _show_progress(progress, view)

    body()
    events.on(JobsChanged, _job_changed)


def _computing(view: StatisticsView) -> dict:
    with ui.card().classes(theme.CARD + ' gap-3 py-8 items-center').mark('stats-computing'):
        ui.spinner('audio', size='2.5em', color='primary')
        ui.label(_('Computing statistics…')).classes(theme.SECTION)
        ui.label(_('Once per dataset, in the background: loudness and spectra of up to 2 000 examples and the '
                   'length of every source file. You can leave this page; the result is kept.')) \
            .classes(theme.HINT + ' max-w-lg text-center')
        widgets = {'bar': ui.linear_progress(value=0, show_value=False).props('rounded size=6px').classes('max-w-md'),
                   'line': ui.label(_('Waiting to start…')).classes(theme.HINT).mark('stats-progress')}
    _show_progress(widgets, view)
    return widgets


def _show_progress(widgets: dict, view: StatisticsView) -> None:
    widgets['bar'].set_value(view.progress or 0)
    if view.job_status:
        widgets['line'].set_text(view.detail or (_('Starting…') if view.job_status == 'running' else
                                                 _('Waiting in the queue…')))


def _failed(message: str, on_retry) -> None:
    with ui.card().classes(theme.CARD + ' gap-2 py-8 items-center').mark('stats-failed'):
        ui.icon('error', color='negative').classes('text-4xl')
        ui.label(_('The statistics could not be computed.')).classes(theme.SECTION)
        ui.label(str(message)).classes('text-sm max-w-xl text-center')
        ui.button(_('Try again'), icon='refresh', on_click=on_retry).props('unelevated color=primary no-caps') \
            .mark('stats-retry')


def _charts(stats: dict, on_recompute) -> None:
    rms, peak, centroid = stats['rms_db'], stats['peak_db'], stats['centroid_hz']
    durations = stats['durations']['seconds']
    n, examples = formatting.count(stats['sampled']), stats['examples']
    summary = ngettext('Computed {when} from all {sampled} examples in {seconds} s.',
                       'Computed {when} from all {sampled} examples in {seconds} s.', stats['sampled']) \
        if stats['sampled'] == examples else \
        _('Computed {when} from {sampled} of {examples} examples (spread evenly) in {seconds} s.')
    with ui.row().classes('w-full items-center gap-2'):
        ui.label(summary.format(when=_when(stats['computed']), sampled=n, examples=formatting.count(examples),
                                seconds=formatting.number(stats['wall_s'], 1))) \
            .classes(theme.HINT + ' grow').mark('stats-summary')
        ui.button(_('Recompute'), icon='refresh', on_click=on_recompute).props('flat dense no-caps color=primary') \
            .mark('stats-recompute')
    with ui.element('div').classes('w-full grid grid-cols-2 md:grid-cols-3 xl:grid-cols-6 gap-3').mark('stats-figures'):
        _figure(_('Source files'), formatting.count(stats['durations']['files']) if durations else '—',
                formatting.duration(stats['durations']['total_s']) if durations else _('folders not found'))
        _figure(_('Median length'), f'{formatting.number(st.median(durations), 1)} s' if durations else '—',
                _('per source file'))
        _figure(_('Median loudness'), _dbfs(st.median(rms)) if rms else '—', _('RMS per example'))
        _figure(_('Loudest peak'), _dbfs(max(peak)) if peak else '—',
                _('clipping!') if peak and max(peak) >= -0.1 else _('headroom ok'))
        _figure(_('Quiet examples'), formatting.count(sum(r < QUIET_DB for r in rms)) if rms else '—',
                _('RMS below {level} dBFS').format(level=formatting.number(QUIET_DB)))
        _figure(_('Median brightness'), f'{formatting.count(round(st.median(centroid)))} Hz' if centroid else '—',
                _('spectral centroid'))
    with ui.element('div').classes('w-full grid grid-cols-1 lg:grid-cols-2 gap-4'):
        _chart(_('Source file durations'), _('How long the recordings are (one bar per length range).'),
               [_histogram(durations, _('files'))], _('length (s)'), _('files'), 'stats-durations')
        _chart(_('Loudness'), _('RMS and peak level of each example; the gap is the crest factor.'),
               [_histogram(rms, 'RMS'), _histogram(peak, _('peak'))], _('level (dBFS)'), _('examples'),
               'stats-loudness', overlay=True)
        _chart(_('Average spectrum'), _('Mean power over all sampled examples, on a log-frequency axis.'),
               [{'type': 'scatter', 'mode': 'lines', 'x': stats['spectrum']['hz'], 'y': stats['spectrum']['db'],
                 'line': {'width': 2, 'shape': 'spline'}, 'name': _('spectrum')}],
               _('frequency (Hz)'), _('power (dB)'), 'stats-spectrum', log_x=True)
        _chart(_('Spectral centroid'), _('The "brightness" of each example: where its spectrum balances.'),
               [_histogram(centroid, _('centroid'))], _('centroid (Hz)'), _('examples'), 'stats-centroid')
    with ui.card().classes(theme.CARD + ' gap-3').mark('stats-previews'):
        ui.label(_('Waveform previews')).classes(theme.SECTION)
        ui.label(_('A few examples spread over the database, as RAVE stores them.')).classes(theme.HINT + ' -mt-2')
        with ui.element('div').classes('w-full grid grid-cols-1 md:grid-cols-2 xl:grid-cols-3 gap-4'):
            for preview in stats['previews']:
                with ui.column().classes('gap-1 min-w-0'):
                    ui.label(_('example {key}').format(key=int(preview['key']))).classes(theme.HINT + ' ' + theme.MONO)
                    waveform(preview, preview['seconds'], height=64)


def _figure(label: str, value: str, hint: str) -> None:
    with ui.card().classes(theme.CARD + ' gap-0 p-3'):
        ui.label(label).classes(theme.HINT)
        ui.label(value).classes('text-lg font-semibold tabular-nums')
        ui.label(hint).classes(theme.HINT)


def _histogram(values: list[float], name: str) -> dict:
    return {'type': 'histogram', 'x': values, 'name': name, 'nbinsx': 30, 'opacity': 0.8}


def _chart(title: str, hint: str, data: list[dict], x_title: str, y_title: str, mark: str, *,
           overlay: bool = False, log_x: bool = False) -> None:
    layout = chart_layout()
    layout['margin'] = {**layout['margin'], 't': 8}
    layout['xaxis']['title'] = {'text': x_title}
    layout['yaxis']['title'] = {'text': y_title}
    layout['showlegend'] = len(data) > 1
    layout['separators'] = formatting.number(1.5)[1] + formatting.count(1000)[1]  # Plotly's decimal, thousands
    layout['legend'] = {**layout['legend'], 'y': 1.1, 'x': 1, 'xanchor': 'right'}
    if overlay:
        layout['barmode'] = 'overlay'
    if log_x:
        layout['xaxis']['type'] = 'log'
    with ui.card().classes(theme.CARD + ' gap-1').mark(mark):
        ui.label(title).classes(theme.SECTION)
        ui.label(hint).classes(theme.HINT)
        if not any(d.get('x') for d in data):
            ui.label(_('No data (the source folders may be gone).')).classes('text-sm py-8 self-center')
            return
        plot = ui.plotly({'data': data, 'layout': layout, 'config': {'displaylogo': False, 'responsive': True,
                                                                     'displayModeBar': False}}) \
            .classes('w-full h-64').props('role=figure')
        plot.props['aria-label'] = _summary(title, data, x_title)


def _summary(title: str, data: list[dict], x_title: str) -> str:
    """The chart in words for screen readers: per curve, how many values and over what range of its x axis."""
    said = []
    for d in data:
        xs = [float(x) for x in d.get('x') or [] if x is not None]
        if xs:
            said.append(ngettext('{name}: {count} value, {axis} from {low} to {high}.',
                                 '{name}: {count} values, {axis} from {low} to {high}.', len(xs))
                        .format(name=d.get('name') or title, count=formatting.count(len(xs)), axis=x_title,
                                low=formatting.number(float(f'{min(xs):.4g}')),
                                high=formatting.number(float(f'{max(xs):.4g}'))))
    return f'{title}. ' + ' '.join(said)


def _dbfs(value: float) -> str:
    return f'{formatting.number(value, 1)} dBFS'


def _when(computed: str) -> str:
    """The worker's "2026-12-01 20:40:00" (local time) as the page's language writes a moment."""
    try:
        return formatting.moment(dt.datetime.strptime(computed, '%Y-%m-%d %H:%M:%S'))
    except (TypeError, ValueError):
        return str(computed)
