"""The deployment guide of one export: what file goes where for its host, the exact object text, the buffer
size that fits its latency, and the known pitfalls. The guide page shows it; the same Markdown is written
next to the export (`<file>.guide.md`) when the export is verified, so it travels with the file.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from services import formatting
from services.i18n import _, ngettext
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
        parts = [f'# {self.title}', '', _('Host: {host}.').format(host=self.host), '']
        for section in self.sections:
            parts += [f'## {section.title}', '', *section.lines, '']
        return '\n'.join(parts).rstrip() + '\n'


def guide_for(export: ExportView) -> Guide:
    """The guide in the language spoken where it is made: the page's, or English for the file beside the export."""
    file, facts = export.file_name, export.facts
    build = {'nn~': _nn_tilde, 'vst': _vst, 'neutone': _neutone, 'onnx': _onnx, 'explorer': _explorer}
    host, sections = build.get(export.target, _custom)(export, file, facts)
    common = [_verdict(export), _facts(facts)]
    return Guide(_('Deploying {name}').format(name=export.name), host, (*sections, *common))


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
        return _('Use a buffer of {buffer} samples.').format(buffer=buffer)
    return _('Use a buffer of {buffer} samples: at {sr} Hz the sound comes out about {ms} ms ({samples} samples) '
             'after it goes in.').format(buffer=buffer, sr=facts.sr, ms=formatting.number(row.ms),
                                         samples=row.samples)


def _nn_tilde(export: ExportView, file: str, facts: ModelFacts) -> tuple[str, list[Section]]:
    buffer = fitting_buffer(facts)
    return _('nn~ in Max/MSP or PureData'), [
        Section(_('Where the file goes'), (
            _('- Max: copy `{file}` into the `models` folder of the nn_tilde package (Max 8: '
              '`~/Documents/Max 8/Packages/nn_tilde/models/`, Max 9: `~/Documents/Max 9/Packages/nn_tilde/models/`), '
              'or next to your patch.').format(file=file),
            _('- PureData: put `{file}` next to your patch, or in a folder listed in Preferences → Path.').format(
                file=file),
        )),
        Section(_('Object text'), (
            f'    nn~ {file} forward {buffer}',
            '',
            _('`encode` and `decode` split it in two (`nn~ {file} encode {buffer}` gives one outlet per latent '
              'dimension, {latent}); `mc.nn~` runs several voices in one object.').format(
                file=file, buffer=buffer, latent=facts.latent_size or _('as many as it has')),
        )),
        Section(_('Buffer and latency'), (_latency_line(facts, buffer),
                                          _('Smaller buffers lower the latency but cost more CPU per second.'))),
        Section(_('Known pitfalls'), (
            _('- A model exported without streaming clicks at every buffer: export it for nn~ (streaming on).'),
            _('- nn~ 1.6.0 is built on libtorch 2.5.1; a file made with a newer torch may not load (see the '
              'verdict).'),
            _('- Turn DSP on after the object has loaded: the first buffers warm the model and may drop out.'),
            _('- The model runs at {sr} Hz; Max or Pd at another rate resamples and shifts the sound.').format(
                sr=facts.sr or _('its')),
        )),
    ]


def _vst_name(file: str) -> str:
    """The name the RAVE VST lists a model file under: its stem, underscores as spaces, each word capitalised
    (rave_vst's detectAvailableModels)."""
    words = Path(file).stem.replace('_', ' ').split(' ')
    return ' '.join(w[:1].upper() + w[1:] for w in words)


def _vst(export: ExportView, file: str, facts: ModelFacts) -> tuple[str, list[Section]]:
    buffer = fitting_buffer(facts)
    prior = (_('Its prior drives the VST\'s prior mode (generation without input).') if facts.prior
             else _('Exported without a prior: the VST\'s prior mode stays off.'))
    return _('the RAVE VST in a DAW'), [
        Section(_('Where the file goes'), (
            _('- In the RAVE VST: Model Explorer → "Import your custom model" → pick `{file}`. The plugin copies '
              'it into its models folder and lists every `.ts` found there (sub-folders too), named after the '
              'file: listed as `{name}`.').format(file=file, name=_vst_name(file)),
            _('- Or copy the file into that folder yourself, then reopen the plugin: '
              '`~/Library/Application Support/ACIDS/RAVE/` on macOS, `%APPDATA%\\ACIDS\\RAVE\\` on Windows, '
              '`~/.config/ACIDS/RAVE/` on Linux.'),
        )),
        Section(_('Settings'), (f'- {prior}', _('- Stereo: the VST plays a mono model in stereo mode (width knob).'),
                                _('- Set the DAW\'s buffer to {buffer} samples or more.').format(buffer=buffer)
                                + ' ' + _latency_line(facts, buffer))),
        Section(_('Known pitfalls'), (
            _('- The RAVE VST is archived: it bundles its own libtorch, so the torch caveat of nn~ applies too.'),
            _('- Run the DAW at the model\'s rate ({sr} Hz).').format(sr=facts.sr or _('as trained')),
            _('- A non-streaming export clicks at every buffer: this target exports with streaming on.'),
        )),
    ]


def _neutone(export: ExportView, file: str, facts: ModelFacts) -> tuple[str, list[Section]]:
    folder = Path(export.path).parent
    return _('the Neutone FX plugin'), [
        Section(_('Where the file goes'), (
            _('- In Neutone FX, choose "Load your own model" and pick `{file}` (in `{folder}`); metadata.json beside '
              'it is the model card.').format(file=file, folder=folder),
        )),
        Section(_('Settings'), (
            _('- Native sample rate {sr} Hz; Neutone resamples a DAW at another rate.').format(
                sr=facts.sr or _('as trained')),
            _('- The knobs shift the first latent dimensions (0.5 = unchanged).'))),
        Section(_('Known pitfalls'), (_('- Neutone adds its own buffering delay: report it to the DAW for sync.'),
                                      _('- The .nm embeds the model as exported: export again to change fidelity.'))),
    ]


def _onnx(export: ExportView, file: str, facts: ModelFacts) -> tuple[str, list[Section]]:
    stem = file.removesuffix('.onnx.json')
    return _('onnxruntime (offline)'), [
        Section(_('Files'), (
            _('- `{file}`: audio [batch, {channels}, samples] → z').format(
                file=f'{stem}.encode.onnx', channels=facts.channels or _('channels')),
            _('- `{file}`: z [batch, {latent}, frames] → audio').format(
                file=f'{stem}.decode.onnx', latent=facts.latent_size or _('latent')),
            _('- `{file}`: the manifest (sample rate, latent size, compression ratio, source).').format(file=file))),
        Section(_('Use'), (
            '    import onnxruntime as ort',
            f'    enc = ort.InferenceSession("{stem}.encode.onnx")',
            f'    dec = ort.InferenceSession("{stem}.decode.onnx")',
            '    z = enc.run(None, {"audio": audio})[0]   # float32 [batch, channels, samples]',
            '    y = dec.run(None, {"z": z})[0]',
        )),
        Section(_('Known pitfalls'), (
            _('- No streaming state: feed whole files or long blocks; small buffers click.'),
            _('- Lengths are multiples of {ratio} samples; pad the input.').format(
                ratio=facts.compression_ratio or _('the compression ratio')))),
    ]


def _explorer(export: ExportView, file: str, facts: ModelFacts) -> tuple[str, list[Section]]:
    return _("this studio's Explorer"), [
        Section(_('Use'), (_('- Open the Explorer and pick `{name}`: reconstruct audio and edit its {latent} latent '
                             'dimensions.').format(name=export.name, latent=facts.latent_size or ''),)),
        Section(_('Known pitfalls'), (_('- For Max, Pd or a DAW export again for that host: this file is offline.'),)),
    ]


def _custom(export: ExportView, file: str, facts: ModelFacts) -> tuple[str, list[Section]]:
    host, sections = _nn_tilde(export, file, facts)
    flags = ', '.join(f'{k} {v}' for k, v in export.options if v not in (None, False)) or _('defaults')
    return _('{host} (custom flags: {flags})').format(host=host, flags=flags), sections


def _verdict(export: ExportView) -> Section:
    lines = [f'- {h.host}: **{_(h.verdict)}**. {h.message}' for h in export.hosts] or [_('- Not verified yet.')]
    return Section(_('Verdict per host'), tuple(lines))


def _facts(facts: ModelFacts) -> Section:
    latent = _('{size} of {total}').format(size=facts.latent_size, total=facts.full_latent_size) \
        if facts.latent_size else '—'
    channels = ngettext('{count} channel', '{count} channels', facts.channels).format(count=facts.channels) \
        if facts.channels else _('— channels')
    made = _('- Made with torch {version}').format(version=facts.made_with_torch or _('unknown'))
    return Section(_('The model'), (
        _('- Sample rate {sr} Hz, {channels}, latent size {latent}, compression ratio {ratio}.').format(
            sr=facts.sr or '—', channels=channels, latent=latent, ratio=facts.compression_ratio or '—'),
        made + (_(', from step {step}.').format(step=formatting.count(facts.step)) if facts.step is not None
                else '.'),
    ))
