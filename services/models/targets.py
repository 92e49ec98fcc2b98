"""The built-in export targets: the hosts a musician plays a RAVE model in, each an `ExportTarget`.

They are registered through the plugin hook `register_export_targets` by the models area's plugin module
(pages/models/plugin.py), exactly as a third-party target is; the export wizard lists what the plugin manager
collected. A target's `flags` are its preset; `options_for` fills in what the user did not choose. Which
worker makes the file follows from `makes`: .ts by RAVE's own export (services/workers/export.py), .onnx by
the studio's exporter (export_onnx.py), .nm by a streaming .ts wrapped through the Neutone SDK
(export_neutone.py). Every export is then verified in a fresh process (verify_export.py).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from services.hookspecs import ExportTarget
from services.i18n import N_, lazy

# the stages a page shows (marked for the catalogue: the page says them in its language)
TS_STAGES = (N_('load'), N_('test methods'), N_('script'), N_('save'), N_('verify'))
ONNX_STAGES = (N_('load'), N_('weights'), N_('rewrite'), N_('encode graph'), N_('decode graph'), N_('verify'))
NEUTONE_STAGES = (N_('load'), N_('test methods'), N_('script'), N_('save'), N_('wrap'), N_('verify'))

# every flag of `rave export`, with the value it takes when neither the preset nor the user sets it
DEFAULTS: Mapping[str, Any] = {'streaming': False, 'fidelity': 0.95, 'channels': None, 'sr': None,
                               'ema_weights': False, 'prior': None}



class ExportError(ValueError):
    """An export action that cannot be done, with a message saying what to do."""


BUILTIN = (  # titles and reasons are marked for the catalogue: the wizard says them in the page's language
    ExportTarget('nn~', N_('Max/MSP or PureData (nn~)'), '.ts',
                 N_('Streaming on: nn~ plays the model buffer by buffer in realtime, which needs cached '
                    'convolutions.'), flags={'streaming': True}, stages=TS_STAGES),
    ExportTarget('vst', N_('RAVE VST / a DAW'), '.ts',
                 N_('Streaming on for realtime; the VST makes stereo itself (stereo mode) and drives a prior when '
                    'the run has one.'), flags={'streaming': True, 'prior': True}, stages=TS_STAGES),
    ExportTarget('neutone', N_('Neutone plugin'), '.nm',
                 N_('A streaming export wrapped for Neutone FX at the model\'s own rate, with four knobs on the '
                    'first latents.'), flags={'streaming': True}, stages=NEUTONE_STAGES),
    ExportTarget('onnx', N_('ONNX runtime (offline, web, embedded)'), '.onnx',
                 N_('Encode and decode graphs (opset 17, any batch and length) for onnxruntime; offline, as ONNX '
                    'keeps no streaming state.'), flags={'streaming': False}, stages=ONNX_STAGES),
    ExportTarget('explorer', N_("This studio's Explorer"), '.ts',
                 N_('Streaming off: the Explorer encodes whole files and edits their latents; a streaming model '
                    'would carry its state from one file to the next.'), flags={'streaming': False},
                 stages=TS_STAGES),
    ExportTarget('custom', N_('Custom (every flag of rave export)'), '.ts',
                 N_('You set every flag of `rave export` yourself: streaming, fidelity, channels, sample rate, EMA '
                    'weights, prior.'), flags={}, stages=TS_STAGES),
)


def options_for(target: ExportTarget, chosen: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The flags an export of `target` runs with: RAVE's defaults, then the preset, then what the user chose.
    A preset's `prior: True` means "the run's prior when it has one" (resolved by the export service)."""
    options = dict(DEFAULTS)
    options.update({k: v for k, v in target.flags.items() if k in DEFAULTS})
    options.update({k: v for k, v in (chosen or {}).items() if k in DEFAULTS})
    return options


def worker_of(target: ExportTarget) -> str:
    """The job kind (and worker module) that makes the target's file."""
    return {'.onnx': 'export_onnx', '.nm': 'export_neutone'}.get(target.makes, 'export')


def stages_of(target: ExportTarget) -> tuple[str, ...]:
    """The stages the wizard shows, always ending with the verification."""
    stages = tuple(target.stages) or TS_STAGES
    return stages if stages[-1] == 'verify' else (*stages, 'verify')


def checked_options(target: ExportTarget, chosen: Mapping[str, Any] | None, *, rate: int | None, ema: bool,
                    priors: Sequence[Path]) -> dict[str, Any]:
    """The flags an export runs with, each checked with a sentence the wizard shows (ExportError): `rate` is the
    model's sample rate, `ema` whether its checkpoint holds EMA weights, `priors` the run's prior folders."""
    opts = options_for(target, chosen)
    fidelity = float(opts['fidelity'])
    if not 0.1 <= fidelity <= 0.999:
        raise ExportError(lazy('Fidelity must be between 0.1 and 0.999 (share of latent variance kept).'))
    opts['fidelity'] = fidelity
    if opts['sr']:
        sr = int(opts['sr'])
        if rate and (sr < rate or sr % rate):
            raise ExportError(lazy('The sample rate must be an integer multiple of the model\'s {rate} Hz '
                                   '({rate}, {double}, …); {sr} Hz is not.', rate=rate, double=2 * rate, sr=sr))
        opts['sr'] = None if sr == rate else sr
    if opts['channels']:
        channels = int(opts['channels'])
        if not 1 <= channels <= 8:
            raise ExportError(lazy('Channels: 1 (mono) to 8, or leave it empty for the channels the model trained '
                                   'with.'))
        opts['channels'] = channels
    if opts['ema_weights'] and not ema:
        raise ExportError(lazy('This run trained without EMA weights (rave train --ema): export without them.'))
    if opts['prior'] is True:  # a preset's "the run's prior when it has one"
        opts['prior'] = str(priors[0]) if priors else None
    elif opts['prior']:
        prior = Path(str(opts['prior']))
        if not (prior / 'config.gin').is_file() and not (prior.suffix == '.ckpt' and prior.is_file()):
            raise ExportError(lazy('{prior} is not a prior run folder (config.gin and checkpoints from '
                                   '`rave train_prior`).', prior=prior))
        opts['prior'] = str(prior.resolve())
    if target.makes in ('.onnx', '.nm') and (opts['channels'] or opts['sr'] or opts['prior']):
        raise ExportError(lazy('{title} takes the model as trained: leave channels, sample rate and prior '
                               'empty (the prior plays in nn~ and the RAVE VST).', title=target.title))
    return opts
