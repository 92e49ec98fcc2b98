"""Explorer: pass audio through an exported model and compare the original with its reconstruction."""
from __future__ import annotations

from nicegui import ui

from app import theme
from components.audio import audio_card, media_url
from services import formatting
from services.events import JobsChanged, Subscriber
from services.models import InferenceError, Models, ReconstructionResult, ReconstructionView, UploadRefused
from services.projects import ProjectView


def create(models: Models, events: Subscriber, project: ProjectView) -> None:
    ui.label('Explorer').classes(theme.TITLE)
    ui.label('Hear what a model keeps: the original and its reconstruction through the latent space.') \
        .classes(theme.SUBTITLE)
    exports = sorted((e for e in models.exports(project.id) if e.testable),
                     key=lambda e: e.streaming)  # non-streaming exports first: they have no delay
    if not exports:
        _empty_state()
        return
    wanted = ui.context.client.request.query_params.get('export', '')
    model_options = {e.id: e.stem + (' (streaming: adds a delay)' if e.streaming else '') for e in exports}
    first = int(wanted) if wanted.isdigit() and int(wanted) in model_options else exports[0].id

    with ui.card().classes(theme.CARD + ' gap-3'):
        with ui.grid().classes('w-full gap-4 grid-cols-1 md:grid-cols-2'):
            with ui.column().classes('gap-0'):
                model = ui.select(model_options, value=first, label='Model').classes('w-full').mark('model')
                ui.label('An exported model (.ts). Non-streaming exports suit the explorer best.').classes(theme.HINT)
            with ui.column().classes('gap-0'):
                audio = ui.select({}, label='Audio file', with_input=True).classes('w-full').mark('audio')
                ui.label('From this project\'s uploads and its datasets\' source folders.').classes(theme.HINT)
        limit_mb = models.upload_limit_mb()
        with ui.row().classes('w-full items-center gap-3'):
            ui.upload(label='Upload audio', auto_upload=True, max_file_size=limit_mb * 1024 * 1024 or None,
                      on_upload=lambda e: _uploaded(models, project, e, audio),
                      on_rejected=lambda: ui.notify(f'That file is over {limit_mb} MB; pick a smaller one.',
                                                    type='negative')) \
                .props('accept="audio/*,.wav,.aif,.aiff,.flac,.mp3,.ogg,.opus" flat bordered') \
                .classes('w-72 compact-upload').mark('upload')
            ui.add_css('.compact-upload .q-uploader__list { min-height: 0; padding: 0 8px; } '
                       '.compact-upload .q-uploader__subtitle { display: none; }')
            ui.label(f'Any format ffmpeg reads, up to {limit_mb} MB. It is decoded to the model\'s sample rate.') \
                .classes(theme.HINT + ' grow')
            button = ui.button('Reconstruct', icon='auto_fix_high').props('unelevated').mark('reconstruct')
        progress = ui.column().classes('w-full gap-1')
    results = ui.column().classes('w-full gap-4').mark('results')
    _fill_audio(models, project, audio)
    following: dict[str, ReconstructionView | ui.label] = {}  # the reconstruction this page waits for

    def start() -> None:
        if not audio.value:
            ui.notify('Pick or upload an audio file first.', type='warning')
            return
        try:
            rec = models.reconstruct(project.id, model.value, audio.value)
        except InferenceError as e:
            ui.notify(str(e), type='negative', multi_line=True)
            return
        button.disable()
        progress.clear()
        with progress:
            ui.linear_progress(show_value=False).props('indeterminate rounded size=6px')
            following.update(rec=rec, stage=ui.label('Queued').classes(theme.HINT).mark('stage'))
        changed(JobsChanged((rec.job_id,)))

    def changed(event: JobsChanged) -> None:
        """Show the followed job's stage until it ends, then the result or what went wrong."""
        rec = following.get('rec')
        if rec is None or (event.job_ids and rec.job_id not in event.job_ids):
            return
        rec = models.reconstruction(rec)
        if rec.active:
            following['stage'].set_text(rec.message or rec.status.capitalize() + '…')
            return
        following.clear()
        button.enable()
        progress.clear()
        if rec.result is not None:
            results.clear()
            with results:
                _show(project, rec.result)
            return
        with progress:
            ui.label(rec.message).classes('text-sm text-negative').mark('error')
        ui.notify(rec.message, type='negative', multi_line=True)

    button.on_click(start)
    events.on(JobsChanged, changed)
    latest = models.latest(project.id)
    if latest is not None:
        if latest.input in audio.options:
            audio.set_value(latest.input)
        with results:
            _show(project, latest)


def _show(project: ProjectView, result: ReconstructionResult) -> None:
    with ui.grid().classes('w-full gap-4 grid-cols-1 lg:grid-cols-2'):
        audio_card('Original', media_url(project, result.original), result.input_envelope,
                   result.duration_s, caption=f'{result.input_name} · {result.sr} Hz', marker='original')
        audio_card('Reconstruction', media_url(project, result.reconstruction), result.output_envelope,
                   result.output_duration_s, caption=f'through {result.model_name}',
                   color=theme.COLORS['accent'], marker='reconstruction')
    with ui.card().classes(theme.CARD + ' gap-3').mark('latent'):
        ui.label('Latent').classes(theme.SECTION)
        with ui.row().classes('w-full gap-8'):
            _figure('latent shape', ' × '.join(str(n) for n in result.latent_shape),
                    'batch × dims × frames')
            _figure('latent size', str(result.latent_size), f'of {result.full_latent_size} dims')
            _figure('frame rate', f'{result.latent_rate_hz:.1f} Hz',
                    f'compression {result.compression_ratio}×')
            _figure('duration', f'{result.duration_s:.2f} s', 'truncated' if result.truncated else 'input')
            _figure('took', formatting.duration(result.elapsed_s), 'load + encode + decode')
        ui.plotly(_latent_figure(result)).classes('w-full h-56')


def _figure(title: str, value: str, caption: str) -> None:
    with ui.column().classes('gap-0'):
        ui.label(title).classes(theme.HINT + ' uppercase tracking-wide')
        ui.label(value).classes(f'text-xl font-semibold {theme.NUMBER}')
        ui.label(caption).classes(theme.HINT)


def _latent_figure(result: ReconstructionResult) -> dict:
    dims = [f'z{i}' for i in range(len(result.latent_std))]
    layout = {**theme.CHART_LAYOUT, 'title': {'text': 'mean ± std per latent dimension', 'font': {'size': 12}},
              'showlegend': False, 'bargap': 0.3}
    return {'data': [{'type': 'bar', 'x': dims, 'y': list(result.latent_mean),
                      'error_y': {'type': 'data', 'array': list(result.latent_std), 'visible': True},
                      'marker': {'color': theme.ACCENT}}], 'layout': layout}


def _fill_audio(models: Models, project: ProjectView, select: ui.select, value: str | None = None) -> None:
    options = {choice.path: choice.label for choice in models.audio_choices(project.id)}
    select.set_options(options, value=value or (next(iter(options)) if options else None))


async def _uploaded(models: Models, project: ProjectView, event, select: ui.select) -> None:
    file = event.file
    try:
        target = models.reserve_upload(project.id, file.name, file.size())
    except UploadRefused as e:
        ui.notify(str(e), type='negative', multi_line=True)
        return
    await file.save(target)
    _fill_audio(models, project, select, str(target))
    ui.notify(f'Uploaded {target.name}.', type='positive')


def _empty_state() -> None:
    with ui.card().classes(theme.CARD + ' items-center text-center gap-2 py-10').mark('empty'):
        ui.icon('graphic_eq', color='primary').classes('text-5xl')
        ui.label('No exported model yet').classes(theme.SECTION)
        ui.label('The explorer plays audio through an exported model (.ts). Export a run first — '
                 'non-streaming works best here.').classes(theme.SUBTITLE + ' max-w-xl')
        ui.button('Export a model', icon='ios_share', on_click=lambda: ui.navigate.to('/export')).props('unelevated')
