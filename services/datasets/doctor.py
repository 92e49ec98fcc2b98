"""The dataset doctor: before launch, says in a musician's words what would fail or happen during preprocessing.

Each finding has a severity: a *blocker* stops the launch, a *warning* is something the user should know
(files that will be skipped, too little material to train, audio that would train a bad model), an *info*
explains what RAVE will do. The parameter and material rules here are the ones the wizard shows at each step and
`DatasetService.start` refuses with. What the sampled read of the audio found (content.py) is said here too, as
warnings: silence, DC offset, clipping and NaN do not stop RAVE, they spoil the model.
"""
from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

from services import formatting
from services.datasets import content
from services.datasets.views import Finding, Survey
from services.i18n import _, ngettext

SEVERITIES = ('blocker', 'warning', 'info')
V2_MIN_EXAMPLES = 51  # v2 at its defaults: PCA needs val·n_signal/R ≥ 128 with R 2048 (RAVE_NOTES §7)
LMDB_OVERHEAD = 1.05  # keys, protobuf framing and B-tree pages on top of the raw int16 samples
SAMPLING_RATES = [16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000]
MIN_NUM_SIGNAL = 16384
MAX_NUM_SIGNAL = 1 << 22
MAX_DB_GB = 100000


def parameter_problems(num_signal, channels, sr, max_db_size, ext: list[str]) -> list[str]:
    """What is wrong with the preprocess parameters (`ext` already cleaned), one sentence each."""
    problems = []
    if not ext:
        problems.append(_('Choose at least one audio file type (for example wav).'))
    if not _whole(num_signal) or not MIN_NUM_SIGNAL <= num_signal <= MAX_NUM_SIGNAL:
        problems.append(_("The example length (num_signal) must be a whole number of samples between {low} and "
                          "{high}; 131072 is RAVE's default.").format(low=MIN_NUM_SIGNAL, high=MAX_NUM_SIGNAL))
    if channels not in (1, 2):
        problems.append(_('Channels must be 1 (mono) or 2 (stereo).'))
    if sr not in SAMPLING_RATES:
        problems.append(_("Pick a sampling rate from the list (44100 Hz is RAVE's default)."))
    if not _whole(max_db_size) or not 1 <= max_db_size <= MAX_DB_GB:
        problems.append(_("The maximum database size must be a whole number of GB (at least 1; RAVE's default "
                          'is 100).'))
    return problems


def material_problems(survey: Survey, ext: list[str]) -> list[str]:
    """Whether the input folders hold anything RAVE would pick up."""
    if not survey.entries and not survey.skipped:
        return [_('No audio files ending in {types} were found in the chosen folders (sub-folders included). '
                  'Pick a folder with audio, or add its file type.').format(types=', '.join(f'.{e}' for e in ext))]
    return []


def tools_problems() -> list[str]:
    """RAVE decodes with ffmpeg and probes with ffprobe (it hangs without ffprobe)."""
    missing = [tool for tool in ('ffmpeg', 'ffprobe') if shutil.which(tool) is None]
    if missing:
        return [_('{tools} not found: RAVE needs ffmpeg to decode your audio. Install ffmpeg (it brings ffprobe), '
                  'then restart the studio.').format(tools=_(' and ').join(missing))]
    return []


def split_sizes(n: int) -> tuple[int, int]:
    """RAVE's train/validation split (dataset.py:264-278): train = max(98N//100, 1), validation the rest ≤ 1000."""
    train = max(98 * n // 100, 1)
    return train, min(max(n - train, 0), 1000)


def pca_ok(n_examples: int, n_signal: int = 131072, ratio: int = 2048) -> bool:
    """Whether RAVE's fidelity PCA gets enough latent frames from the validation set (model.py:472)."""
    _, val = split_sizes(n_examples)
    return val * n_signal // ratio >= 128


def estimated_bytes(examples: int, num_signal: int, channels: int) -> int:
    """Size of a regular LMDB: each example stores 2·num_signal int16 samples per channel."""
    return int(examples * 2 * num_signal * 2 * channels * LMDB_OVERHEAD)


def examine(survey: Survey, *, output: Path, num_signal: int, channels: int, sr: int, lazy: bool,
            max_db_size: int, dyndb: bool, example_s: float) -> list[Finding]:
    """Findings about the material (`survey`) and the disk it goes to, worst first."""
    findings: list[Finding] = []
    add = findings.append
    if survey.skipped:
        add(Finding('warning', ngettext('{count} item cannot be used and will be skipped; the rest is preprocessed '
                                        'without them. Re-export them as WAV if you need them.',
                                        '{count} items cannot be used and will be skipped; the rest is preprocessed '
                                        'without them. Re-export them as WAV if you need them.',
                                        len(survey.skipped)).format(count=len(survey.skipped)),
                    tuple(f'{p} — {why}' for p, why in survey.skipped)))
    usable = survey.usable
    if not usable and not survey.skipped:
        return _sorted(findings)
    if not usable:
        add(Finding('blocker', _('None of the files can be read as audio, so there is nothing to preprocess. '
                                 'Check that they are real audio files (try opening one in a player).')))
        return _sorted(findings)
    per_file = [(f, int(f.duration // example_s)) for f in usable if f.duration is not None]
    examples = survey.examples(num_signal, sr)
    if not lazy:
        short = [f for f, n in per_file if n == 0]
        if short and len(short) == len(per_file):
            add(Finding('blocker', _('Every file is shorter than one example ({seconds} s), so nothing would be '
                                     'stored. Lower the example length or add longer recordings.')
                        .format(seconds=formatting.number(example_s, 1))))
        elif short:
            add(Finding('warning', ngettext('{count} file is shorter than one example ({seconds} s) and adds nothing; '
                                            'the end of every file (less than one example) is also left out.',
                                            '{count} files are shorter than one example ({seconds} s) and add '
                                            'nothing; the end of every file (less than one example) is also left '
                                            'out.', len(short))
                        .format(count=len(short), seconds=formatting.number(example_s, 1)),
                        tuple(f'{f.path} — {formatting.number(f.duration, 1)} s' for f in short)))
    count = len(usable) if lazy else examples
    if count and not lazy and examples < V2_MIN_EXAMPLES:
        _train, val = split_sizes(examples)
        add(Finding('warning', _('Only about {examples} examples ({minutes} min). RAVE keeps 2 % for validation '
                                 '({validation} here), and the v2 configs need at least {least} examples (about 5 '
                                 'minutes) for their latent analysis, or training stops at the first validation. Add '
                                 'audio, or train with v2_small.')
                    .format(examples=examples, minutes=formatting.number(examples * example_s / 60, 1),
                            validation=val, least=V2_MIN_EXAMPLES)))
    rates = Counter(f.sr for f in usable if f.sr)
    others = {r: n for r, n in rates.items() if r != sr}
    if others:
        parts = ', '.join(_('{count} at {rate} kHz').format(count=n, rate=formatting.number(r / 1000))
                          for r, n in sorted(others.items()))
        lower = [r for r in others if r < sr]
        note = (' ' + _('Files recorded at a lower rate gain no new high frequencies by being resampled up.')
                if lower else '')
        add(Finding('info', _('Mixed sampling rates ({rates}): ffmpeg resamples them to {rate} kHz while '
                              'preprocessing.').format(rates=parts, rate=formatting.number(sr / 1000)) + note))
    layouts = Counter(f.channels for f in usable if f.channels)
    if channels == 1 and any(c > 1 for c in layouts):
        n = sum(v for c, v in layouts.items() if c > 1)
        add(Finding('info', ngettext('{count} file is stereo or multichannel: RAVE keeps only their first (left) '
                                     'channel for a mono dataset; it does not mix them down.',
                                     '{count} files are stereo or multichannel: RAVE keeps only their first (left) '
                                     'channel for a mono dataset; it does not mix them down.', n).format(count=n)))
    if channels == 2 and layouts.get(1):
        add(Finding('info', ngettext('{count} mono file: RAVE copies their one channel to both sides of the stereo '
                                     'dataset.', '{count} mono files: RAVE copies their one channel to both sides of '
                                     'the stereo dataset.', layouts[1]).format(count=layouts[1])))
    if lazy:
        add(Finding('info', _('Lazy dataset: only references to your files are stored. Training decodes them on '
                              'the fly (slower) and needs them to stay where they are.')))
    _disk(findings, output, examples, num_signal, channels, lazy, max_db_size, dyndb)
    return _sorted(findings)


def content_findings(found: list[content.Content], not_scanned: int) -> list[Finding]:
    """What the scan means for training, one finding per kind of problem, with the files it is about."""
    out: list[Finding] = []
    if not found:
        return out
    broken = [c for c in found if c.nonfinite]
    if broken:
        out.append(Finding('warning', ngettext(
            '{count} file holds NaN or infinite values (a damaged float WAV). RAVE decodes with ffmpeg, which turns '
            'each one into a full-scale click, so the model learns bursts of noise; a NaN that reaches the model as '
            'is makes every loss NaN and the training crashes. Repair or re-render these files (or leave them out) '
            'before building.',
            '{count} files hold NaN or infinite values (a damaged float WAV). RAVE decodes with ffmpeg, which turns '
            'each one into a full-scale click, so the model learns bursts of noise; a NaN that reaches the model as '
            'is makes every loss NaN and the training crashes. Repair or re-render these files (or leave them out) '
            'before building.', len(broken)).format(count=len(broken)),
            tuple(_('{path} — {count} bad samples in what was read').format(path=c.path, count=c.nonfinite)
                  for c in broken)))
    silent = [c for c in found if c.silent and not c.nonfinite]
    if silent and len(silent) == len(found):
        out.append(Finding('warning', _('Every file is silent (nothing above −80 dBFS in what was read): a model '
                                        'trained on it learns silence and plays nothing. Check that these are the '
                                        'recordings you meant, and that they were not exported muted.'),
                           tuple(str(c.path) for c in silent)))
    elif silent:
        out.append(Finding('warning', ngettext(
            '{count} file is silent (nothing above −80 dBFS in what was read): they add examples of nothing, which '
            'teach the model silence and dilute the rest. Leave them out of the folders.',
            '{count} files are silent (nothing above −80 dBFS in what was read): they add examples of nothing, which '
            'teach the model silence and dilute the rest. Leave them out of the folders.', len(silent))
            .format(count=len(silent)), tuple(str(c.path) for c in silent)))
    mostly = [c for c in found if not c.silent and c.silent_share >= content.MOSTLY_SILENT]
    if mostly:
        out.append(Finding('info', ngettext('{count} file is mostly silence: training spends that share of its '
                                            'time on silence. Trimming long silences helps.',
                                            '{count} files are mostly silence: training spends that share of its '
                                            'time on silence. Trimming long silences helps.', len(mostly))
                           .format(count=len(mostly)),
                           tuple(_('{path} — {share}% silent').format(path=c.path, share=round(100 * c.silent_share))
                                 for c in mostly)))
    offset = [c for c in found if c.dc >= content.DC_OFFSET and not c.silent]
    if offset:
        out.append(Finding('warning', ngettext(
            '{count} file is off centre (a DC offset): the model learns the offset too, and its output thumps where '
            'sound starts and stops. Remove the offset first (a high-pass at 10–20 Hz, e.g. ffmpeg -af '
            'highpass=f=10, or your editor\'s "remove DC").',
            '{count} files are off centre (a DC offset): the model learns the offset too, and its output thumps where '
            'sound starts and stops. Remove the offset first (a high-pass at 10–20 Hz, e.g. ffmpeg -af '
            'highpass=f=10, or your editor\'s "remove DC").', len(offset)).format(count=len(offset)),
            tuple(_('{path} — offset {offset}').format(path=c.path, offset=formatting.number(c.dc, 3))
                  for c in offset)))
    clipped = [c for c in found if c.clipped]
    if clipped:
        out.append(Finding('warning', ngettext(
            '{count} file is hard-clipped (flat tops at full scale): the model learns the clipping as part of the '
            'sound and reproduces it as harsh distortion. Use unclipped takes, or lower the gain where they were made.',
            '{count} files are hard-clipped (flat tops at full scale): the model learns the clipping as part of the '
            'sound and reproduces it as harsh distortion. Use unclipped takes, or lower the gain where they were made.',
            len(clipped)).format(count=len(clipped)),
            tuple(_('{path} — {share}% of samples clipped').format(path=c.path,
                                                                   share=formatting.number(100 * c.clipped_share, 1))
                  for c in clipped)))
    if not_scanned and out:
        out.append(Finding('info', ngettext('{count} file was not scanned for content (too many to sample, or a '
                                            'format libsndfile does not read); the findings above come from the '
                                            'others.',
                                            '{count} files were not scanned for content (too many to sample, or a '
                                            'format libsndfile does not read); the findings above come from the '
                                            'others.', not_scanned).format(count=not_scanned)))
    return out


def _disk(findings: list[Finding], output: Path, examples: int, num_signal: int, channels: int, lazy: bool,
          max_db_size: int, dyndb: bool) -> None:
    need = 4096 * max(examples, 1) if lazy else estimated_bytes(examples, num_signal, channels)
    limit = max_db_size * 1024 ** 3
    folder = output
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    gb = 1024 ** 3
    if need > limit:
        findings.append(Finding('blocker', _('The dataset needs about {need} GB but its size limit (max database '
                                             'size) is {limit} GB: RAVE would stop with "MDB_MAP_FULL". Raise the '
                                             'limit.').format(need=formatting.number(need / gb, 1), limit=max_db_size)))
    if need > free:
        findings.append(Finding('blocker', _('Not enough free disk: the dataset needs about {need} GB and {folder} '
                                             'has {free} GB free. Free some space or use a shorter selection.')
                                .format(need=formatting.number(need / gb, 2), folder=folder,
                                        free=formatting.number(free / gb, 2))))
    elif not dyndb and limit > free:
        findings.append(Finding('warning', _('With dynamic growth off, the database file is created at its full '
                                             'limit of {limit} GB up front (sparse on most Linux disks, but not '
                                             'everywhere) and only {free} GB are free. Turn dynamic growth on or lower '
                                             'the limit.')
                                .format(limit=max_db_size, free=formatting.number(free / gb, 1))))
    else:
        findings.append(Finding('info', _('About {size} MB will be written ({free} GB free). The limit of {limit} GB '
                                          'is only a ceiling: with dynamic growth the file grows as examples are '
                                          'written.').format(size=formatting.count(round(max(need, 1) / 1024 ** 2)),
                                                             free=formatting.count(round(free / gb)),
                                                             limit=max_db_size)))


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _sorted(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: SEVERITIES.index(f.severity))

