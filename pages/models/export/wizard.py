"""The export wizard (/export): start from where the model will play, pick checkpoints, see the flags the
target sets and why, name it, export; every export is then verified in a fresh process. A batch takes
several checkpoints and several targets at once."""
from __future__ import annotations

from nicegui import ui

from app import theme
from pages.models.export.parts import FLAG_WORDS, TARGET_ICONS, checkpoint_label, flag_value, stage_steps, verdict_chip
from services.events import ExportChanged, JobsChanged, Subscriber
from services.i18n import _, ngettext, pgettext
from services.models import ExportChoices, ExportError, Models, RunCheckpointsView, TargetView
from services.projects import ProjectView
from services.training import CheckpointView, Training


def create(models: Models, training: Training, events: Subscriber, project: ProjectView) -> None:
    with ui.row().classes('w-full items-end gap-2'):
        with ui.column().classes('gap-0 grow'):
            ui.label(_('Export')).classes(theme.TITLE)
            ui.label(_('Make a checkpoint into a model for the host you play it in; each export is loaded and played '
                       'in a fresh process before it is called ready.')).classes(theme.SUBTITLE)
        ui.button(_('Library'), icon='inventory', on_click=lambda: ui.navigate.to('/export/library')) \
            .props('outline') \
            .mark('to-library')
    runs = [r for r in models.runs(project.id) if r.checkpoints]
    if not runs:
        _empty_state()
        return
    started: list[int] = []
    Wizard(models, training, project, runs, models.targets(), started, events)


class Wizard:
    """The four steps of one export (or batch) and the exports started from here."""

    def __init__(self, models: Models, training: Training, project: ProjectView, runs: list[RunCheckpointsView],
                 targets: list[TargetView], started: list[int], events: Subscriber) -> None:
        self.models, self.training, self.project = models, training, project
        self.targets, self.started = targets, started
        self.run_checkpoints: list[CheckpointView] = []
        self.by_run = {r.id: r for r in runs}
        wanted = ui.context.client.request.query_params.get('run', '')
        self.run_id = int(wanted) if wanted.isdigit() and int(wanted) in self.by_run else runs[0].id
        self.wanted_checkpoint = ui.context.client.request.query_params.get('checkpoint', '')  # the model page's pick
        self.chosen: list[str] = ['nn~' if any(t.name == 'nn~' for t in targets) else targets[0].name]
        self.batch = False
        self.choices: ExportChoices | None = None
        self._target_step()
        self._checkpoint_step()
        self._flags_step()
        self._name_step()
        self.started_list = ui.column().classes('w-full gap-2').mark('started')
        self._on_run()
        events.on(ExportChanged, lambda e: self._refresh_started() if e.export_id in self.started else None)
        events.on(JobsChanged, lambda _event: self._refresh_started() if self.started else None)

    # ---- step 1: the target -----------------------------------------------------------------
    def _target_step(self) -> None:
        with ui.card().classes(theme.CARD + ' gap-3').mark('step-target'):
            with ui.row().classes('w-full items-center gap-2'):
                ui.label(_('1 · Where will you play it?')).classes(theme.SECTION + ' grow')
                ui.switch(_('Batch: several targets and checkpoints'), on_change=self._on_batch).mark('batch')
            self.target_cards = ui.grid().classes('w-full gap-3 grid-cols-1 sm:grid-cols-2 lg:grid-cols-3')
            self.why = ui.label().classes('text-sm').mark('why')
        self._draw_targets()

    def _draw_targets(self) -> None:
        self.target_cards.clear()
        with self.target_cards:
            for target in self.targets:
                picked = target.name in self.chosen
                card = ui.card().classes('cursor-pointer rounded-lg p-3 gap-1 border').mark(f'target-{target.name}')
                card.style(f'border: 2px solid {theme.ACCENT}' if picked else 'border-color: rgba(128,128,128,.25)')
                with card.on('click', lambda t=target: self._pick(t.name)):
                    with ui.row().classes('items-center gap-2 no-wrap'):
                        ui.icon('check_circle' if picked else TARGET_ICONS.get(target.name, 'extension'),
                                color='primary' if picked else 'grey-6').classes('text-xl')
                        ui.label(_(target.title)).classes('font-medium')
                    ui.label(f'{target.makes} · {_(target.why)}').classes(theme.HINT)
                    if target.plugin and not target.plugin.startswith('pages.'):
                        ui.label(_('from the plugin {plugin}').format(plugin=target.plugin)) \
                            .classes(theme.HINT + ' italic')
        count = len(self.chosen)
        self.why.set_text(ngettext('{count} target picked: each export of the batch takes its own preset.',
                                   '{count} targets picked: each export of the batch takes its own preset.',
                                   count).format(count=count) if self.batch else '')

    def _pick(self, name: str) -> None:
        if self.batch:
            self.chosen = [n for n in self.chosen if n != name] if name in self.chosen else [*self.chosen, name]
        else:
            self.chosen = [name]
        self._draw_targets()
        self._apply_preset()
        self._update_hint()

    def _on_batch(self, e) -> None:
        self.batch = bool(e.value)
        self.checkpoint.set_visibility(not self.batch)
        self.checkpoints.set_visibility(self.batch)
        if self.batch:
            self.checkpoints.set_value([self.checkpoint.value] if self.checkpoint.value else [])
        else:
            self.chosen = self.chosen[:1]
            self._draw_targets()
            self._apply_preset()
        self._update_hint()

    # ---- step 2: checkpoints ----------------------------------------------------------------
    def _checkpoint_step(self) -> None:
        with ui.card().classes(theme.CARD + ' gap-3').mark('step-checkpoint'):
            ui.label(_('2 · Which checkpoint?')).classes(theme.SECTION)
            with ui.grid().classes('w-full gap-4 grid-cols-1 md:grid-cols-2'):
                with ui.column().classes('gap-0'):
                    self.run = ui.select({i: r.name for i, r in self.by_run.items()}, value=self.run_id,
                                         label=_('Run'), on_change=lambda _event: self._on_run()) \
                        .classes('w-full').mark('run')
                    ui.label(_('A training run of this project, or one imported on the Models page.')) \
                        .classes(theme.HINT)
                with ui.column().classes('gap-0'):
                    self.checkpoint = ui.select({}, label=_('Checkpoint'),
                                                on_change=lambda _event: self._on_checkpoint()) \
                        .classes('w-full').mark('checkpoint')
                    self.checkpoints = ui.select({}, label=_('Checkpoints'), multiple=True,
                                                 on_change=lambda _event: self._update_hint()) \
                        .props('use-chips').classes('w-full').mark('checkpoints')
                    self.checkpoints.set_visibility(False)
                    ui.label(_('best has the lowest validation loss; last and epoch ones are the latest state; stop '
                               'is where you stopped the training.')).classes(theme.HINT)

    def _on_run(self) -> None:
        self.run_id = self.run.value
        run = self.by_run[self.run_id]
        self.run_checkpoints = self.training.checkpoints(self.run_id)  # with the validation at each one's step
        options = {c.path: checkpoint_label(c) for c in self.run_checkpoints}
        self.checkpoint.set_options(options, value=self._best())
        self.checkpoints.set_options(options, value=[self._best()])
        self.name.set_value(run.name)
        self._on_checkpoint()

    def _best(self) -> str:
        """The best checkpoint (lowest validation), else the newest."""
        checkpoints = self.run_checkpoints
        if any(c.path == self.wanted_checkpoint for c in checkpoints):
            return self.wanted_checkpoint
        best = next((c for c in checkpoints if c.kind == 'best'), None) or next(iter(checkpoints), None)
        return best.path if best else ''

    def _first_checkpoint(self) -> str:
        return self.checkpoint.value or ''

    def _on_checkpoint(self) -> None:
        try:
            self.choices = self.models.choices(self.project.id, self.run_id, self._first_checkpoint())
        except ExportError as e:
            ui.notify(str(e), type='negative')
            return
        self._draw_choices()
        self._update_hint()

    # ---- step 3: the flags ------------------------------------------------------------------
    def _flags_step(self) -> None:
        with ui.card().classes(theme.CARD + ' gap-3').mark('step-flags'):
            ui.label(_('3 · Flags')).classes(theme.SECTION)
            self.preset_line = ui.label().classes('text-sm').mark('preset')
            with ui.grid().classes('w-full gap-4 grid-cols-1 md:grid-cols-2 lg:grid-cols-3'):
                with ui.column().classes('gap-0'):
                    self.streaming = ui.switch(_('Streaming'), on_change=lambda _event: self._update_hint()) \
                        .mark('streaming')
                    ui.label(_('Realtime hosts (nn~, VST, Neutone) need it; offline use does not.')) \
                        .classes(theme.HINT)
                with ui.column().classes('gap-0'):
                    self.fidelity = ui.number(_('Fidelity'), value=0.95, min=0.1, max=0.999, step=0.01, format='%.3f',
                                              on_change=lambda _event: self._show_latent()).classes('w-full') \
                        .mark('fidelity')
                    self.latent = ui.label().classes(theme.HINT).mark('latent-size')
                with ui.column().classes('gap-0'):
                    self.channels = ui.select({0: _('as trained'), 1: _('1 (mono)'), 2: _('2 (stereo)')}, value=0,
                                              label=_('Channels')).classes('w-full').mark('channels')
                    ui.label(_('The VST makes stereo itself; leave it as trained unless the host wants more.')) \
                        .classes(theme.HINT)
                with ui.column().classes('gap-0'):
                    self.sr = ui.select({0: _('as trained')}, value=0, label=_('Sample rate')).classes('w-full') \
                        .mark('sr')
                    ui.label(_('Integer multiples of the model\'s rate only (RAVE resamples inside).')) \
                        .classes(theme.HINT)
                with ui.column().classes('gap-0'):
                    self.ema = ui.switch(_('EMA weights')).mark('ema')
                    self.ema_hint = ui.label().classes(theme.HINT)
                with ui.column().classes('gap-0'):
                    self.prior = ui.select({'': _('none')}, value='', label=_('Prior')).classes('w-full').mark('prior')
                    self.prior_hint = ui.label().classes(theme.HINT + ' break-all').mark('prior-hint')
            self.flag_controls = (self.streaming, self.fidelity, self.channels, self.sr, self.ema, self.prior)

    def _draw_choices(self) -> None:
        choices = self.choices
        rates = {0: _('as trained ({rate} Hz)').format(rate=choices.sr) if choices.sr else _('as trained')}
        rates.update({r: f'{r} Hz ({r // choices.sr}×)' for r in choices.rates[1:]})
        self.sr.set_options(rates, value=0)
        self.ema.set_value(False)
        self.ema.set_enabled(choices.ema and self._custom())
        self.ema_hint.set_text(_('The run trained with EMA weights: smoother, often better.') if choices.ema else
                               _('The run trained without EMA (rave train --ema), so there are none to use.'))
        self.prior.set_options({'': _('none'), **{p: p.rsplit('/', 1)[-1] for p in choices.priors}},
                               value=choices.priors[0] if choices.priors and self._preset('prior') else '')
        self.prior.set_enabled(bool(choices.priors))
        self.prior_hint.set_text(choices.prior_hint or
                                 _('A prior generates latents on its own (the VST\'s prior mode).'))
        self._apply_preset()
        self._show_latent()

    def _apply_preset(self) -> None:
        """A preset sets its flags and locks them; custom opens every flag of `rave export`."""
        target = self._target()
        custom = self._custom()
        preset = target.preset
        if not custom:
            self.streaming.set_value(bool(preset.get('streaming')))
            self.channels.set_value(0)
            self.sr.set_value(0)
            self.ema.set_value(False)
        for control in self.flag_controls:
            control.set_enabled(custom)
        if self.choices is not None:
            self.ema.set_enabled(custom and self.choices.ema)
            self.prior.set_enabled(bool(self.choices.priors) and (custom or target.makes == '.ts'))
            if not custom:
                self.prior.set_value(self.choices.priors[0] if self.choices.priors and preset.get('prior') else '')
        self.fidelity.set_enabled(True)  # the latent count is the user's choice on every target
        shown = ', '.join(_(FLAG_WORDS[k]) + ('' if v is True else f' {flag_value(v)}') for k, v in target.flags
                          if v not in (None, False)) or _("RAVE's defaults")
        self.preset_line.set_text(_('Every flag is yours to set.') if custom else
                                  _('{target} sets: {flags}. {why}').format(target=_(target.title), flags=shown,
                                                                             why=_(target.why)))

    def _show_latent(self) -> None:
        if self.choices is None or not self.choices.fidelity_curve:
            self.latent.set_text(_('Share of latent variance kept; it sets how many latent dimensions the model has.'))
            return
        try:
            fidelity = float(self.fidelity.value or 0.95)
        except (TypeError, ValueError):
            return
        size = self.choices.latent_size(fidelity)
        total = len(self.choices.fidelity_curve)
        self.latent.set_text(ngettext('→ {size} latent dimension of {total} (from this checkpoint\'s fidelity curve).',
                                      '→ {size} latent dimensions of {total} (from this checkpoint\'s fidelity curve).',
                                      size).format(size=size, total=total))

    def _target(self) -> TargetView:
        return next(t for t in self.targets if t.name == self.chosen[0]) if self.chosen else self.targets[0]

    def _custom(self) -> bool:
        return len(self.chosen) == 1 and self.chosen[0] == 'custom'

    def _preset(self, flag: str) -> bool:
        return bool(self._target().preset.get(flag))

    # ---- step 4: name and start -------------------------------------------------------------
    def _name_step(self) -> None:
        with ui.card().classes(theme.CARD + ' gap-3').mark('step-name'):
            ui.label(_('4 · Name and export')).classes(theme.SECTION)
            with ui.row().classes('w-full items-start gap-3 no-wrap'):
                with ui.column().classes('gap-0 grow'):
                    self.name = ui.input(_('Name'), on_change=lambda _event: self._update_hint()).classes('w-full') \
                        .mark('name')
                    self.hint = ui.label().classes(theme.HINT).mark('name-hint')
                ui.button(pgettext('verb', 'Export'), icon='ios_share', on_click=self._start).props('unelevated') \
                    .classes('mt-2').mark('export')

    def _update_hint(self) -> None:
        if not hasattr(self, 'hint'):
            return
        name = self.name.value or '…'
        if self.batch:
            count = len(self._checkpoints()) * len(self.chosen)
            self.hint.set_text(ngettext('{count} export queued one after the other, named {name}_step…_target, each '
                                        'verified on its own.',
                                        '{count} exports queued one after the other, named {name}_step…_target, '
                                        'each verified on its own.', count).format(count=count, name=name))
            return
        target = self._target()
        suffix = '_streaming' if (self.streaming.value and target.makes == '.ts') else ''
        where = {'.onnx': f'{name}.onnx.json (+ .encode.onnx, .decode.onnx)', '.nm': f'{name}/model.nm'}
        self.hint.set_text(_('Saved as exports/{file} in the project folder.').format(
            file=where.get(target.makes, f'{name}{suffix}{target.makes}')))

    def _checkpoints(self) -> list[str]:
        if self.batch:
            return list(self.checkpoints.value or [])
        return [self.checkpoint.value] if self.checkpoint.value else []

    def _options(self) -> dict:
        options = {'fidelity': float(self.fidelity.value or 0.95)}
        if self._custom():
            options.update(streaming=bool(self.streaming.value), channels=self.channels.value or None,
                           sr=self.sr.value or None, ema_weights=bool(self.ema.value), prior=self.prior.value or None)
        elif self._target().makes == '.ts' and len(self.chosen) == 1:
            options['prior'] = self.prior.value or None
        return options

    def _start(self) -> None:
        try:
            if self.batch:
                made = self.models.start_batch(self.project.id, self.run_id, self._checkpoints(), self.chosen,
                                               name=self.name.value, options=self._options())
            else:
                made = [self.models.start_export(self.project.id, self.run_id, self._first_checkpoint(),
                                                 target=self.chosen[0], name=self.name.value,
                                                 options=self._options())]
        except ExportError as e:
            ui.notify(str(e), type='negative', multi_line=True)
            return
        ui.notify(_('Exporting {names}; each is verified when it is written.').format(
            names=', '.join(e.name for e in made)), type='info')
        self.started[:0] = [e.id for e in made]
        self._refresh_started()

    def _refresh_started(self) -> None:
        self.started_list.clear()
        with self.started_list:
            for export_id in self.started:
                export = self.models.export(export_id)
                if export is None:
                    continue
                with ui.card().classes(theme.CARD + ' gap-2').mark(f'started-{export.id}'):
                    with ui.row().classes('w-full items-center gap-2'):
                        ui.label(export.name).classes('font-medium')
                        ui.label(f'{export.target} · {export.file_name}').classes(theme.HINT + ' grow')
                        verdict_chip(export)
                        ui.button(_('Open'), icon='open_in_new', on_click=lambda i=export.id: ui.navigate.to(
                            f'/export/view/{i}')).props('flat dense').mark('open-export')
                    stage_steps(export)
                    if export.message:
                        ui.label(export.message).classes('text-sm text-negative whitespace-pre-wrap') \
                            .mark('export-message')


def _empty_state() -> None:
    with ui.card().classes(theme.CARD + ' items-center text-center gap-2 py-10').mark('empty'):
        ui.icon('inventory_2', color='primary').classes('text-5xl')
        ui.label(_('No checkpoint to export yet')).classes(theme.SECTION)
        ui.label(_('RAVE writes checkpoints at each validation of a training. Train a model, or import a run '
                   'folder made with the RAVE command line.')).classes(theme.SUBTITLE + ' max-w-xl')
        with ui.row().classes('gap-2'):
            ui.button(_('New training'), icon='model_training', on_click=lambda: ui.navigate.to('/training/new')) \
                .props('unelevated')
            ui.button(_('Import a run folder'), icon='drive_folder_upload',
                      on_click=lambda: ui.navigate.to('/models')).props('outline')
