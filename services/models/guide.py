"""The deployment guide of one export: what file goes where for its host, the exact object text, the buffer
size that fits its latency, and the known pitfalls. The guide page shows it; the same Markdown is written
next to the export (`<file>.guide.md`) when the export is verified, so it travels with the file.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from services.models.views import ExportView, ModelFacts
from services.store import Export

BUFFERS = (512, 1024, 2048, 4096, 8192)


@dataclass(frozen=True)
class Section:
    title: str
    lines: tuple[str, ...]  # Markdown lines; a line starting with four spaces is code


@dataclass(frozen=True)
class Guide:
    title: str
    host: str
    sections: tuple[Section, ...]

    def markdown(self) -> str:
        parts = [f'# {self.title}', '', f'Host: {self.host}.', '']
        for section in self.sections:
            parts += [f'## {section.title}', '', *section.lines, '']
        return '\n'.join(parts).rstrip() + '\n'


def guide_for(export: ExportView) -> Guide:
    file, facts = export.file_name, export.facts
    build = {'nn~': _nn_tilde, 'vst': _vst, 'neutone': _neutone, 'onnx': _onnx, 'explorer': _explorer}
    host, sections = build.get(export.target, _custom)(export, file, facts)
    common = [_verdict(export), _facts(facts)]
    return Guide(f'Deploying {export.name}', host, (*sections, *common))


def guide_path(export: Export | ExportView) -> Path:
    """Where the guide lies: next to the file (inside the Neutone folder for a .nm)."""
    path = Path(export.path)
    if path.name == 'model.nm':
        return path.with_name(f'{export.name or path.parent.name}.guide.md')
    stem = path.name.removesuffix('.onnx.json') if path.name.endswith('.onnx.json') else path.stem
    return path.with_name(f'{stem}.guide.md')


def write_guide(row: Export) -> Path:
    path = guide_path(row)
    path.write_text(guide_for(ExportView.of(row)).markdown())
    return path


def fitting_buffer(facts: ModelFacts) -> int:
    """The smallest common host buffer that holds a whole block of the model (its compression ratio)."""
    ratio = facts.compression_ratio or 2048
    return next((b for b in BUFFERS if b >= ratio and b >= 2048), BUFFERS[-1])


def _latency_line(facts: ModelFacts, buffer: int) -> str:
    row = facts.latency_at(buffer)
    if row is None:
        return f'Use a buffer of {buffer} samples.'
    return (f'Use a buffer of {buffer} samples: at {facts.sr} Hz the sound comes out about {row.ms:g} ms '
            f'({row.samples} samples) after it goes in.')


def _nn_tilde(export: ExportView, file: str, facts: ModelFacts) -> tuple[str, list[Section]]:
    buffer = fitting_buffer(facts)
    return 'nn~ in Max/MSP or PureData', [
        Section('Where the file goes', (
            (f'- Max: copy `{file}` into the `models` folder of the nn_tilde package (Max 8: '
            '`~/Documents/Max 8/Packages/nn_tilde/models/`, Max 9: `~/Documents/Max 9/Packages/nn_tilde/models/`), '
            'or next to your patch.'),
            f'- PureData: put `{file}` next to your patch, or in a folder listed in Preferences → Path.',
        )),
        Section('Object text', (
            f'    nn~ {file} forward {buffer}',
            '',
            (f'`encode` and `decode` split it in two (`nn~ {file} encode {buffer}` gives one outlet per latent '
             f'dimension, {facts.latent_size or "as many as it has"}); `mc.nn~` runs several voices in one object.'),
        )),
        Section('Buffer and latency', (_latency_line(facts, buffer),
                                       'Smaller buffers lower the latency but cost more CPU per second.')),
        Section('Known pitfalls', (
            '- A model exported without streaming clicks at every buffer: export it for nn~ (streaming on).',
            '- nn~ 1.6.0 is built on libtorch 2.5.1; a file made with a newer torch may not load (see the verdict).',
            '- Turn DSP on after the object has loaded: the first buffers warm the model and may drop out.',
            f'- The model runs at {facts.sr or "its"} Hz; Max or Pd at another rate resamples and shifts the sound.',
        )),
    ]


def _vst_name(file: str) -> str:
    """The name the RAVE VST lists a model file under: its stem, underscores as spaces, each word capitalised
    (rave_vst's detectAvailableModels)."""
    words = Path(file).stem.replace('_', ' ').split(' ')
    return ' '.join(w[:1].upper() + w[1:] for w in words)


def _vst(export: ExportView, file: str, facts: ModelFacts) -> tuple[str, list[Section]]:
    buffer = fitting_buffer(facts)
    prior = ('Its prior drives the VST\'s prior mode (generation without input).' if facts.prior
             else 'Exported without a prior: the VST\'s prior mode stays off.')
    return 'the RAVE VST in a DAW', [
        Section('Where the file goes', (
            (f'- In the RAVE VST: Model Explorer → "Import your custom model" → pick `{file}`. The plugin copies '
             'it into its models folder and lists every `.ts` found there (sub-folders too), named after the '
             f'file: listed as `{_vst_name(file)}`.'),
            ('- Or copy the file into that folder yourself, then reopen the plugin: '
             '`~/Library/Application Support/ACIDS/RAVE/` on macOS, `%APPDATA%\\ACIDS\\RAVE\\` on Windows, '
             '`~/.config/ACIDS/RAVE/` on Linux.'),
        )),
        Section('Settings', (f'- {prior}', '- Stereo: the VST plays a mono model in stereo mode (width knob).',
                             f'- Set the DAW\'s buffer to {buffer} samples or more. ' + _latency_line(facts, buffer))),
        Section('Known pitfalls', (
            '- The RAVE VST is archived: it bundles its own libtorch, so the torch caveat of nn~ applies too.',
            f'- Run the DAW at the model\'s rate ({facts.sr or "as trained"} Hz).',
            '- A non-streaming export clicks at every buffer: this target exports with streaming on.',
        )),
    ]


def _neutone(export: ExportView, file: str, facts: ModelFacts) -> tuple[str, list[Section]]:
    folder = Path(export.path).parent
    return 'the Neutone FX plugin', [
        Section('Where the file goes', (
            (f'- In Neutone FX, choose "Load your own model" and pick `{file}` (in `{folder}`); metadata.json beside '
            'it is the model card.'),
        )),
        Section('Settings', ((f'- Native sample rate {facts.sr or "as trained"} Hz; Neutone resamples a DAW at '
                             'another rate.'), '- The knobs shift the first latent dimensions (0.5 = unchanged).')),
        Section('Known pitfalls', ('- Neutone adds its own buffering delay: report it to the DAW for sync.',
                                   '- The .nm embeds the model as exported: export again to change fidelity.')),
    ]


def _onnx(export: ExportView, file: str, facts: ModelFacts) -> tuple[str, list[Section]]:
    stem = file.removesuffix('.onnx.json')
    return 'onnxruntime (offline)', [
        Section('Files', (f'- `{stem}.encode.onnx`: audio [batch, {facts.channels or "channels"}, samples] → z',
                          f'- `{stem}.decode.onnx`: z [batch, {facts.latent_size or "latent"}, frames] → audio',
                          f'- `{file}`: the manifest (sample rate, latent size, compression ratio, source).')),
        Section('Use', (
            '    import onnxruntime as ort',
            f'    enc = ort.InferenceSession("{stem}.encode.onnx")',
            f'    dec = ort.InferenceSession("{stem}.decode.onnx")',
            '    z = enc.run(None, {"audio": audio})[0]   # float32 [batch, channels, samples]',
            '    y = dec.run(None, {"z": z})[0]',
        )),
        Section('Known pitfalls', ('- No streaming state: feed whole files or long blocks; small buffers click.',
                                   (f'- Lengths are multiples of {facts.compression_ratio or "the compression ratio"} '
                                   'samples; pad the input.'))),
    ]


def _explorer(export: ExportView, file: str, facts: ModelFacts) -> tuple[str, list[Section]]:
    return "this studio's Explorer", [
        Section('Use', ((f'- Open the Explorer and pick `{export.name}`: reconstruct audio and edit its '
                        f'{facts.latent_size or ""} latent dimensions.'),)),
        Section('Known pitfalls', ('- For Max, Pd or a DAW export again for that host: this file is offline.',)),
    ]


def _custom(export: ExportView, file: str, facts: ModelFacts) -> tuple[str, list[Section]]:
    host, sections = _nn_tilde(export, file, facts)
    flags = ', '.join(f'{k} {v}' for k, v in export.options if v not in (None, False)) or 'defaults'
    return f'{host} (custom flags: {flags})', sections


def _verdict(export: ExportView) -> Section:
    lines = [f'- {h.host}: **{h.verdict}**. {h.message}' for h in export.hosts] or ['- Not verified yet.']
    return Section('Verdict per host', tuple(lines))


def _facts(facts: ModelFacts) -> Section:
    latent = f'{facts.latent_size} of {facts.full_latent_size}' if facts.latent_size else '—'
    return Section('The model', (
        (f'- Sample rate {facts.sr or "—"} Hz, {facts.channels or "—"} channel(s), latent size {latent}, '
        f'compression ratio {facts.compression_ratio or "—"}.'),
        f'- Made with torch {facts.made_with_torch or "unknown"}'
        + (f', from step {facts.step:,}.' if facts.step is not None else '.'),
    ))
