"""One export (/export/view/{export_id}): its stages, the verification report check by check, the verdict per
host, what the file is (methods, attributes, rates, latent size, latency at the host's buffer, torch), a test
player through the export itself, and the logs of every process of its life."""
from __future__ import annotations

from nicegui import ui

from app import theme
from components.audio import audio_card, media_url
from components.comments import comments_card
from components.job_console import job_console
from components.status import status_chip
from pages.models.export.library import actions
from pages.models.export.parts import flag_words, host_chip, stage_steps, target_title, verdict_chip
from services import formatting
from services.events import ExportChanged, JobsChanged, Subscriber
from services.i18n import N_, _, ngettext
from services.jobs import Jobs
from services.lab.comments import Comments
from services.models import ExportView, InferenceError, Models, ReconstructionView, UploadRefused
from services.projects import ProjectView

BUFFERS = (256, 512, 1024, 2048, 4096, 8192)


def create(models: Models, jobs: Jobs, comments: Comments, events: Subscriber, project: ProjectView,
           export_id: str) -> None:
    export = models.export(int(export_id)) if export_id.isdigit() else None
    if export is None or export.id not in {e.id for e in models.exports(project.id)}:
        ui.label(_('No such export in this project.')).classes(theme.SUBTITLE).mark('missing')
        ui.button(_('Back to the library'), on_click=lambda: ui.navigate.to('/export/library')).props('flat')
        return
    targets = models.targets()

    drawn: dict = {}  # what the body was drawn for: (status, stage, its jobs)

    @ui.refreshable
    def head() -> None:
        view = models.export(export.id)
        if view is None:
            ui.label(_('This export was deleted.')).classes(theme.SUBTITLE)
            return
        _header(models, project, targets, view, update)

    @ui.refreshable
    def body() -> None:
        view = models.export(export.id)
        if view is None:
            return
        drawn['key'] = (view.status, view.stage, view.job_ids)
        if view.verified:
            _report(view)
            _facts(view)
        if view.testable:
            _player(models, events, project, view)
        _logs(jobs, events, view)

    def update() -> None:
        """The header (stages, progress) follows every change; the report, player and logs are drawn again only
        when the export reaches another stage, so a running export's console and a playing test stay put."""
        head.refresh()
        view = models.export(export.id)
        if view is None or drawn.get('key') != (view.status, view.stage, view.job_ids):
            body.refresh()

    head()
    body()
    comments_card(comments, events, 'export', export.id)
    events.on(ExportChanged, lambda e: update() if e.export_id == export.id else None)
    events.on(JobsChanged, lambda e: update()
              if models.export(export.id) is not None and models.export(export.id).status == 'running' else None)


def _header(models: Models, project: ProjectView, targets, view: ExportView, refresh) -> None:
    with ui.row().classes('w-full items-center gap-2'):
        with ui.column().classes('gap-0 grow min-w-0'):
            with ui.row().classes('items-center gap-2'):
                ui.label(view.name).classes(theme.TITLE).mark('export-name')
                status_chip('ready' if view.status == 'done' else view.status)
                verdict_chip(view)
            source = view.checkpoint.rsplit('/', 1)[-1]
            if view.checkpoint_step is not None:
                source = _('{file}, step {step}').format(file=source, step=formatting.count(view.checkpoint_step))
            run = view.run_name or _('a removed run')
            origin = _('from {run} ({source})').format(run=run, source=source) if source else \
                _('from {run}').format(run=run)  # an export indexed without its checkpoint (made by the CLI)
            ui.label(f'{target_title(targets, view.target)} · {origin} · {formatting.moment(view.created)}') \
                .classes(theme.SUBTITLE)
        with ui.row().classes('gap-0 no-wrap'):
            actions(models, project, targets, view, refresh, after_delete='/export/library')
    with ui.card().classes(theme.CARD + ' gap-2').mark('progress'):
        stage_steps(view)
        if view.status == 'done' and not view.file.exists:
            ui.label(_('The file {path} is gone (moved or deleted outside the studio): export the checkpoint '
                       'again, or delete this entry.').format(path=view.path)) \
                .classes('text-sm text-negative break-words').mark('export-gone')
        if view.message:
            ui.label(view.message).classes('text-sm text-negative whitespace-pre-wrap').mark('export-message')
        if view.command:
            ui.label(view.command).classes(theme.MONO + ' text-gray-500 break-all').mark('command')
        ui.label(_('Flags: {flags}').format(flags=flag_words(view))).classes(theme.HINT)
        if view.warnings:
            warned = ngettext('RAVE warned {count} time', 'RAVE warned {count} times', len(view.warnings)).format(
                count=len(view.warnings))
            with ui.expansion(warned, icon='warning').classes('w-full').mark('warnings'):
                for warning in view.warnings:
                    ui.label(warning).classes(theme.MONO + ' whitespace-pre-wrap')


def _report(view: ExportView) -> None:
    with ui.grid().classes('w-full gap-4 grid-cols-1 lg:grid-cols-2'):
        with ui.card().classes(theme.CARD + ' gap-2').mark('report'):
            passed = view.verified == 'passed'
            ui.label(_('Verification: every check passed') if passed else _('Verification failed')) \
                .classes(theme.SECTION + ('' if passed else ' text-negative'))
            ui.label(_('Loaded and played in a fresh process, as a host would.')).classes(theme.HINT)
            for check in view.checks:
                icon, color = {True: ('check_circle', 'positive'), False: ('cancel', 'negative')}.get(
                    check.ok, ('remove_circle_outline', 'grey-6'))
                with ui.row().classes('w-full items-start gap-2 no-wrap').mark(f'check-{check.check}'):
                    ui.icon(icon, color=color).classes('text-lg mt-0.5')
                    with ui.column().classes('gap-0 min-w-0'):
                        ui.label(_(CHECKS.get(check.check, check.check))).classes('text-sm font-medium')
                        ui.label(check.message).classes('text-sm' + (' text-negative' if check.ok is False else ''))
        with ui.card().classes(theme.CARD + ' gap-2').mark('hosts'):
            ui.label(_('Verdict per host')).classes(theme.SECTION)
            for host in view.hosts:
                with ui.row().classes('w-full items-start gap-2 no-wrap').mark('host'):
                    host_chip(host.verdict)
                    with ui.column().classes('gap-0 min-w-0'):
                        ui.label(host.host).classes('text-sm font-medium')
                        ui.label(host.message).classes('text-sm')


def _facts(view: ExportView) -> None:
    facts = view.facts
    with ui.card().classes(theme.CARD + ' gap-3').mark('facts'):
        ui.label(_('The model')).classes(theme.SECTION)
        with ui.row().classes('w-full gap-8 flex-wrap'):
            latent = _('{size} of {total}').format(size=facts.latent_size, total=facts.full_latent_size) \
                if facts.latent_size else '—'
            for title, value, caption in (
                    (_('sample rate'), f'{formatting.count(facts.sr)} Hz' if facts.sr else '—',
                     _('the host should run at it')),
                    (_('channels'), str(facts.channels or '—'), _('in and out')),
                    (_('latent size'), latent, _('dimensions exposed of all')),
                    (_('compression'), f'{facts.compression_ratio}×' if facts.compression_ratio else '—',
                     _('samples per latent frame')),
                    (_('file'), formatting.size(facts.size) if facts.size else '—', view.file_name),
                    ('torch', facts.made_with_torch or _('unknown'), _('made with'))):
                with ui.column().classes('gap-0'):
                    ui.label(title).classes(theme.HINT + ' uppercase tracking-wide')
                    ui.label(value).classes(f'text-lg font-semibold {theme.NUMBER}')
                    ui.label(caption).classes(theme.HINT)
        if facts.methods:
            rows = [{'method': m, 'in': f'{p[0]} ch ÷{p[1]}', 'out': f'{p[2]} ch ÷{p[3]}'} for m, p in facts.methods]
            ui.table(columns=[{'name': k, 'label': _(label), 'field': k, 'align': 'left'}
                              for k, label in (('method', N_('method')), ('in', N_('in')), ('out', N_('out')))],
                     rows=rows).props('dense flat').classes('w-full max-w-xl').mark('methods')
            ui.label(_('Attributes: {names}').format(names=', '.join(facts.attributes) or _('none'))) \
                .classes(theme.HINT)
        if facts.latency:
            with ui.row().classes('items-center gap-3'):
                buffer = ui.select({b: _('{count} samples').format(count=b) for b in BUFFERS if facts.latency_at(b)},
                                   value=2048, label=_('Host buffer')).classes('w-40').mark('buffer')
                latency = ui.label().classes('text-sm').mark('latency')

            def show() -> None:
                row = facts.latency_at(buffer.value)
                offline = '' if facts.streaming else _(' — offline model: it clicks in realtime')
                text = _('≈ {ms} ms ({samples} samples) from input to output').format(
                    ms=formatting.number(row.ms), samples=row.samples) + offline if row else ''
                latency.set_text(text)
            buffer.on_value_change(show)
            show()


def _player(models: Models, events: Subscriber, project: ProjectView, view: ExportView) -> None:
    with ui.card().classes(theme.CARD + ' gap-3').mark('player'):
        ui.label(_('Test player')).classes(theme.SECTION)
        ui.label(_('Play a dataset example or your own file through this export itself.')).classes(theme.HINT)
        with ui.row().classes('w-full items-center gap-3'):
            choices = {c.path: c.label for c in models.audio_choices(project.id)}
            audio = ui.select(choices, label=_('Audio'), value=next(iter(choices), None), with_input=True) \
                .classes('grow').mark('audio')
            limit = models.upload_limit_mb()
            ui.upload(label=_('Upload audio'), auto_upload=True, max_file_size=limit * 1024 * 1024 or None,
                      on_upload=lambda e: _uploaded(models, project, e, audio)) \
                .props('accept="audio/*,.wav,.aif,.aiff,.flac,.mp3,.ogg,.opus" flat bordered') \
                .classes('w-60 compact-upload').mark('upload')
            ui.add_css('.compact-upload .q-uploader__list { min-height: 0; padding: 0 8px; } '
                       '.compact-upload .q-uploader__subtitle { display: none; }')
            play = ui.button(_('Play through it'), icon='play_arrow').props('unelevated').mark('play')
        stage = ui.label().classes(theme.HINT).mark('player-stage')
        results = ui.column().classes('w-full gap-3')
    following: dict[str, ReconstructionView] = {}

    def start() -> None:
        if not audio.value:
            ui.notify(_('Pick or upload an audio file first.'), type='warning')
            return
        try:
            following['rec'] = models.reconstruct(project.id, view.id, audio.value)
        except InferenceError as e:
            ui.notify(str(e), type='negative', multi_line=True)
            return
        play.disable()
        stage.set_text(_('Queued'))

    def changed(event: JobsChanged) -> None:
        rec = following.get('rec')
        if rec is None or (event.job_ids and rec.job_id not in event.job_ids):
            return
        rec = models.reconstruction(rec)
        if rec.active:
            stage.set_text(rec.message or _('Running'))
            return
        following.clear()
        play.enable()
        stage.set_text('' if rec.result else rec.message)
        if rec.result is not None:
            results.clear()
            with results, ui.grid().classes('w-full gap-3 grid-cols-1 lg:grid-cols-2'):
                r = rec.result
                audio_card(_('Input'), media_url(project, r.original), r.input_envelope, r.duration_s,
                           caption=r.input_name, marker='played-input')
                audio_card(_('Through the export'), media_url(project, r.reconstruction), r.output_envelope,
                           r.output_duration_s, caption=view.file_name, color=theme.COLORS['accent'],
                           marker='played-output')

    play.on_click(start)
    events.on(JobsChanged, changed)


async def _uploaded(models: Models, project: ProjectView, event, select: ui.select) -> None:
    file = event.file
    try:
        target = await models.receive_upload(project.id, file.name, file.size()).receive(file.iterate())
    except UploadRefused as e:
        ui.notify(str(e), type='negative', multi_line=True)
        return
    select.set_options({c.path: c.label for c in models.audio_choices(project.id)}, value=str(target))
    ui.notify(_('Uploaded {name}.').format(name=target.name), type='positive')


LOG_TITLES = {'verify_export': N_('Verification log'), 'export_neutone': N_('Neutone wrap log')}
# the verification's checks (services/workers/verify_export.py names them), as a person reads them
CHECKS = {'load': N_('load'), 'methods': N_('methods'), 'attributes': N_('attributes'), 'signal': N_('signal'),
          'streaming': N_('streaming'), 'stereo': N_('stereo'), 'prior': N_('prior'),
          'verification': N_('verification')}


def _logs(jobs: Jobs, events: Subscriber, view: ExportView) -> None:
    for i, job_id in enumerate(view.job_ids):
        last = i == len(view.job_ids) - 1
        job = jobs.get(job_id)
        title = _(LOG_TITLES.get(job.kind if job else '', N_('Export log (RAVE\'s output and warnings)')))
        with ui.expansion(title, icon='terminal', value=view.status == 'running' and last).classes(
                theme.CARD + ' p-0').mark(f'log-{i}'):
            job_console(jobs, events, job_id, height='h-48')
