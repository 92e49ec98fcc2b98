"""The built-in export targets: the hosts a musician plays a RAVE model in, each an `ExportTarget`.

They are registered through the plugin hook `register_export_targets` by the models area's plugin module
(pages/models/plugin.py), exactly as a third-party target is; the export wizard lists what the plugin manager
collected. A target's `flags` are its preset; `options_for` fills in what the user did not choose. Which
worker makes the file follows from `makes`: .ts by RAVE's own export (services/workers/export.py), .onnx by
the studio's exporter (export_onnx.py), .nm by a streaming .ts wrapped through the Neutone SDK
(export_neutone.py). Every export is then verified in a fresh process (verify_export.py).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.hookspecs import ExportTarget

TS_STAGES = ('load', 'test methods', 'script', 'save', 'verify')
ONNX_STAGES = ('load', 'weights', 'rewrite', 'encode graph', 'decode graph', 'verify')
NEUTONE_STAGES = ('load', 'test methods', 'script', 'save', 'wrap', 'verify')

# every flag of `rave export`, with the value it takes when neither the preset nor the user sets it
DEFAULTS: Mapping[str, Any] = {'streaming': False, 'fidelity': 0.95, 'channels': None, 'sr': None,
                               'ema_weights': False, 'prior': None}

BUILTIN = (
    ExportTarget('nn~', 'Max/MSP or PureData (nn~)', '.ts',
                 'Streaming on: nn~ plays the model buffer by buffer in realtime, which needs cached convolutions.',
                 flags={'streaming': True}, stages=TS_STAGES),
    ExportTarget('vst', 'RAVE VST / a DAW', '.ts',
                 'Streaming on for realtime; the VST makes stereo itself (stereo mode) and drives a prior when the '
                 'run has one.', flags={'streaming': True, 'prior': True}, stages=TS_STAGES),
    ExportTarget('neutone', 'Neutone plugin', '.nm',
                 'A streaming export wrapped for Neutone FX at the model\'s own rate, with four knobs on the first '
                 'latents.', flags={'streaming': True}, stages=NEUTONE_STAGES),
    ExportTarget('onnx', 'ONNX runtime (offline, web, embedded)', '.onnx',
                 'Encode and decode graphs (opset 17, any batch and length) for onnxruntime; offline, as ONNX keeps '
                 'no streaming state.', flags={'streaming': False}, stages=ONNX_STAGES),
    ExportTarget('explorer', "This studio's Explorer", '.ts',
                 'Streaming off: the Explorer encodes whole files and edits their latents; a streaming model would '
                 'carry its state from one file to the next.', flags={'streaming': False}, stages=TS_STAGES),
    ExportTarget('custom', 'Custom (every flag of rave export)', '.ts',
                 'You set every flag of `rave export` yourself: streaming, fidelity, channels, sample rate, EMA '
                 'weights, prior.', flags={}, stages=TS_STAGES),
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
