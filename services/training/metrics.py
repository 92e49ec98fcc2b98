"""Training metrics as numbers: append-only numpy columns, smoothing, display downsampling and run alerts.

No UI here: pages chart what these functions return, and tests check them on synthetic and real runs.
"""
from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from services import formatting, lazy
from services.i18n import N_, _
from services.training.phases import Alert, latent_alerts

np = lazy.module('numpy')

# RAVE's scalars (RAVE_NOTES.md §4) grouped for charts: (title, keys, log scale by default, hint)
GROUPS = (
    (N_('Spectral distance'), ('loss', 'multiband_spectral_distance', 'fullband_spectral_distance'), False,
     N_('Reconstruction error per step; "loss" is the sum of the generator terms.')),
    (N_('Validation'), ('val/validation',), False,
     N_('Full-band distance on held-out audio; the lowest is best.ckpt.')),
    (N_('Regularization'), ('regularization',), False, N_('KL term of the latent space, weighted by β.')),
    (N_('β warm-up'), ('beta_factor',), True, N_('The weight of the regularization, rising over the warm-up.')),
    (N_('Adversarial'), ('adversarial', 'feature_matching'), False, N_('Generator terms of phase 2 (GAN).')),
    (N_('Discriminator'), ('loss_dis', 'pred_real', 'pred_fake'), False,
     N_("The discriminator's loss and scores, phase 2.")),
    (N_('Latent fidelity'), ('val/fidelity_0.8', 'val/fidelity_0.9', 'val/fidelity_0.95', 'val/fidelity_0.99'),
     False,
     N_('The latent dimension (RAVE\'s index: 0 is the first alone) by which 80/90/95/99 % of the variance is '
        'held; one more is the number of dimensions.')),
    (N_('Learning rate'), ('lr_gen', 'lr_dis'), True, N_('Per step, read from the optimizers.')),
)  # titles and hints shown through _()
WALL_TIME = 'wall_time'  # each step's wall-clock time (epoch seconds): the compare view's time axis
NOT_CHARTED = {'epoch', WALL_TIME}
# the generator's loss terms RAVE logs (rave/model.py training_step); their sum is shown as "loss"
LOSS_TERMS = ('multiband_', 'fullband_', 'regularization', 'feature_matching', 'adversarial')
VALIDATION_TERMS = ('validation', 'fidelity')
LOSS_KEYS = ('loss', 'multiband_spectral_distance', 'fullband_spectral_distance', 'regularization',
             'adversarial', 'feature_matching', 'loss_dis', 'val/validation')
GAN_KEYS = ('adversarial', 'feature_matching', 'loss_dis', 'pred_real', 'pred_fake')
_PHASE = re.compile(r'^\s*(?:PHASE_1_DURATION|[\w.]*phase_1_duration)\s*=\s*([0-9.eE+]+)\s*$', re.MULTILINE)


class Column:
    """An append-only numpy column; behaves like a list (len, [i], iteration) and exposes `.array` without
    copy."""

    def __init__(self, dtype: str = 'float64', capacity: int = 256) -> None:
        self._data = np.empty(capacity, dtype=dtype)
        self._n = 0
        # weight, length, EMA, its state
        self._smooth: tuple[float, int, np.ndarray, float, int] | None = None

    def append(self, value) -> None:
        if self._n == self._data.size:
            self._data = np.resize(self._data, self._data.size * 2)
        self._data[self._n] = value
        self._n += 1

    def extend(self, values) -> None:
        values = np.asarray(values, dtype=self._data.dtype)
        need = self._n + values.size
        if need > self._data.size:
            self._data = np.resize(self._data, max(need, self._data.size * 2))
        self._data[self._n:need] = values
        self._n = need

    @property
    def array(self) -> np.ndarray:
        return self._data[:self._n]

    def smoothed(self, weight: float) -> np.ndarray:
        """`ema(self.array, weight)`, continued from the last call's state: a live series is smoothed once,
        not on every page open or tick (the last weight asked for is kept)."""
        w, n, out, acc, count = self._smooth if self._smooth and self._smooth[0] == weight else (
            weight, 0, np.empty(0), 0.0, 0)
        if n < self._n:
            if out.size < self._n:
                out = np.resize(out, max(self._n, 2 * out.size))
            new = self.array[n:].astype(np.float64)
            if new.size <= 32:  # a live tick's few points: a plain loop beats scipy's call overhead
                for i, v in enumerate(new.tolist()):
                    if math.isfinite(v):
                        acc, count = w * acc + (1 - w) * v, count + 1
                        new[i] = acc / (1 - w ** count)
                out[n:self._n] = new
                self._smooth = (w, self._n, out, acc, count)
                return out[:self._n]
            finite = np.isfinite(new)
            x = new[finite]
            if x.size:
                from scipy.signal import lfilter
                acc_seq, _ = lfilter([1 - w], [1, -w], x, zi=[w * acc])
                new[finite] = acc_seq / (1 - w ** (count + np.arange(1, x.size + 1, dtype=np.float64)))
                acc, count = float(acc_seq[-1]), count + x.size
            out[n:self._n] = new
            self._smooth = (w, self._n, out, acc, count)
        return out[:self._n]

    def index(self, value) -> int:
        hits = np.flatnonzero(self.array == value)
        if not hits.size:
            raise ValueError(f'{value} is not in the column')
        return int(hits[0])

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):
        out = self.array[i]
        return out.item() if isinstance(out, np.generic) else out

    def __iter__(self):
        return iter(self.array.tolist())

    def __bool__(self) -> bool:
        return self._n > 0

    def __eq__(self, other) -> bool:
        try:
            return self.array.tolist() == list(other)
        except TypeError:
            return NotImplemented

    __hash__ = None

    def __repr__(self) -> str:
        return f'Column({self.array.tolist()!r})' if self._n <= 10 else f'Column(<{self._n} values>)'


@dataclass
class Series:
    """A run's metrics so far: for each scalar, the steps and values seen (numpy columns, append-only)."""
    steps: dict[str, Column] = field(default_factory=dict)
    values: dict[str, Column] = field(default_factory=dict)
    step: int = 0
    epoch: int = 0
    max_steps: int = 0
    run_dir: str = ''
    stopped_at: int | None = None
    checkpoints: dict[str, int] = field(default_factory=dict)  # path -> step, as the worker wrote them
    paused: bool = False  # the worker is waiting between two steps
    rate: float | None = None  # training steps per second, over the recent window
    recent: list[tuple[float, int]] = field(default_factory=list)
    version: int = 0  # bumps on every new line, so charts can skip idle ticks

    def add(self, line: dict) -> None:
        step = int(line.get('step') or 0)
        if line.get('run_dir'):
            self.run_dir = line['run_dir']
        if line.get('max_steps'):
            self.max_steps = int(line['max_steps'])
        if line.get('epoch') is not None:
            self.epoch = int(line['epoch'])
        event = line.get('event')
        if event == 'stopped':
            self.stopped_at = step
        elif event == 'checkpoint' and line.get('path'):
            self.checkpoints[line['path']] = step
        elif event in ('paused', 'resumed', 'start'):
            self.paused = event == 'paused'  # a new process (resume, recovery) starts unpaused
        prefix = 'val/' if event == 'validation' else ''
        for key, value in line.items() if event in (None, 'validation') else ():
            if key in ('step', 'max_steps', 'epoch', 't', 'event', 'run_dir', 'checkpoint'):
                continue
            if isinstance(value, (int, float)):
                self.steps.setdefault(prefix + key, Column(np.int64)).append(step)
                self.values.setdefault(prefix + key, Column()).append(float(value))
        if event in (None, 'validation') and step and isinstance(line.get('t'), (int, float)):
            self.steps.setdefault(WALL_TIME, Column(np.int64)).append(step)
            self.values.setdefault(WALL_TIME, Column()).append(float(line['t']))
        if not line.get('event') and step:
            self.step = step
            self.recent = [*self.recent[-30:], (float(line.get('t', time.time())), step)]
            (t0, s0), (t1, s1) = self.recent[0], self.recent[-1]
            self.rate = (s1 - s0) / (t1 - t0) if t1 > t0 and s1 > s0 else self.rate
        self.version += 1

    def latest(self, key: str) -> float | None:
        values = self.values.get(key)
        return values[-1] if values else None


# ---- smoothing and downsampling -------------------------------------------------------------------
def ema(values: np.ndarray, weight: float) -> np.ndarray:
    """TensorBoard's debiased exponential moving average (weight 0 = raw); non-finite points stay as they
    are."""
    values = np.asarray(values, dtype=np.float64)
    if weight <= 0 or values.size == 0:
        return values.copy()
    from scipy.signal import lfilter  # vectorised recursion: 1 M points in milliseconds
    out = values.copy()
    finite = np.isfinite(values)
    x = values[finite]
    if x.size:
        smooth = lfilter([1 - weight], [1, -weight], x)
        out[finite] = smooth / (1 - weight ** np.arange(1, x.size + 1))
    return out


def downsample(x: np.ndarray, y: np.ndarray, buckets: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """At most ~2·buckets points that keep each bucket's min and max (spikes survive), plus both ends."""
    x, y = np.asarray(x), np.asarray(y, dtype=np.float64)
    n = y.size
    if n <= 2 * buckets:
        return x, y
    size = math.ceil(n / buckets)
    m = n // size
    block = y[:m * size].reshape(m, size)
    low = np.where(np.isfinite(block), block, np.inf).argmin(axis=1)
    high = np.where(np.isfinite(block), block, -np.inf).argmax(axis=1)
    base = np.arange(m) * size
    keep = [base + low, base + high, np.array([0, n - 1])]
    if m * size < n:
        tail = y[m * size:]
        keep.append(m * size + np.array([np.nanargmin(tail) if np.isfinite(tail).any() else 0,
                                         np.nanargmax(tail) if np.isfinite(tail).any() else 0]))
    index = np.unique(np.concatenate(keep))
    return x[index], y[index]


def average(x: np.ndarray, y: np.ndarray, buckets: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """At most ~buckets points: each bucket's mean at its middle step, plus both ends (for smoothed
    curves)."""
    x, y = np.asarray(x), np.asarray(y, dtype=np.float64)
    n = y.size
    if n <= 2 * buckets:
        return x, y
    size = math.ceil(n / buckets)
    m = n // size
    block = y[:m * size].reshape(m, size)
    finite = np.isfinite(block)
    with np.errstate(invalid='ignore', divide='ignore'):
        means = np.where(finite, block, 0).sum(axis=1) / finite.sum(axis=1)
    xs = np.concatenate([[x[0]], x[np.arange(m) * size + size // 2], [x[-1]]])
    ys = np.concatenate([[y[0]], means, [y[-1]]])
    return xs, ys


def window(x: np.ndarray, y: np.ndarray, lo: float | None, hi: float | None,
           buckets: int = 1000, thin=downsample) -> tuple[np.ndarray, np.ndarray]:
    """The points with lo ≤ x ≤ hi (one neighbour either side, so lines reach the edges), thinned by
    `thin`."""
    x, y = np.asarray(x), np.asarray(y)
    start = 0 if lo is None else max(int(np.searchsorted(x, lo, 'left')) - 1, 0)
    end = x.size if hi is None else min(int(np.searchsorted(x, hi, 'right')) + 1, x.size)
    return thin(x[start:end], y[start:end], buckets)


def display(x, y, smoothing: float = 0.0, buckets: int = 1000, lo: float | None = None,
            hi: float | None = None) -> tuple[list, list]:
    """What a chart shows, JSON-ready: the raw series with every bucket's min and max (spikes stay
    visible), or the smoothed one (EMA over the whole series) as bucket means, cut to the view."""
    x = np.asarray(x)
    if smoothing:
        # a Column keeps its EMA
        smooth = y.smoothed(smoothing) if hasattr(y, 'smoothed') else ema(y, smoothing)
        xs, ys = window(x, smooth, lo, hi, buckets, thin=average)
    else:
        xs, ys = window(x, np.asarray(y, dtype=np.float64), lo, hi, buckets)
    return xs.tolist(), [v if math.isfinite(v) else None for v in ys.tolist()]


ALWAYS = ('Spectral distance', 'Validation')  # charted from the start, before their first point


def grouped(keys, always=ALWAYS) -> list[tuple[str, list[str], bool, str]]:
    """Chart groups that have data (or are in `always`), in GROUPS order; unknown scalars go to 'Other
    metrics'."""
    keys = [k for k in keys if k not in NOT_CHARTED]
    out, used = [], set()
    for title, members, log, hint in GROUPS:
        present = list(members) if title in always else [k for k in members if k in keys]
        present += sorted(k for k in keys if title == 'Latent fidelity' and k.startswith('val/fidelity')
                          and k not in members)
        if present:
            out.append((title, present, log, hint))
            used.update(present)
    other = sorted(k for k in keys if k not in used)
    if other:
        out.append((N_('Other metrics'), other, False, N_("Scalars not in RAVE's usual set.")))
    return out


# ---- phases and alerts ----------------------------------------------------------------------------
def phase_1_duration(run_folder: str | Path | None) -> int | None:
    """PHASE_1_DURATION from a run's operative config.gin (the warm-up length in steps), if found."""
    if not run_folder:
        return None
    folder = Path(run_folder)
    for path in (folder / 'config.gin', folder.parent / 'config.gin'):
        try:
            found = _PHASE.findall(path.read_text())
        except OSError:
            continue
        if found:
            return int(float(found[-1]))
    return None


def gan_start(steps: dict, phase_1: int | None = None) -> int | None:
    """The step where adversarial training starts: the config's warm-up length, else the first GAN scalar."""
    seen = [int(steps[k][0]) for k in GAN_KEYS if k in steps and len(steps[k])]
    if seen:
        return min(seen)
    return phase_1


def alerts(steps: dict, values: dict, *, running: bool, last_time: float | None, now: float | None = None,
           stall_s: float = 600.0, collapse_dims: float = 1.0, phase_1: int | None = None,
           current_step: int = 0) -> list[Alert]:
    """Everything a user should know about the run's health, most serious first."""
    out = []
    for key in LOSS_KEYS:
        if key not in values or not len(values[key]):
            continue
        bad = np.flatnonzero(~np.isfinite(_array(values[key])))
        if bad.size:
            step = int(_array(steps[key])[bad[0]])
            out.append(Alert('nonfinite', 'negative', _('{key} became {value} at step {step}: training diverged. '
                                                        'Resume from an earlier checkpoint, lower the learning rate '
                                                        'or the batch.').format(
                                 key=key, value=_array(values[key])[bad[0]], step=formatting.count(step)), step))
    now = time.time() if now is None else now
    if running and last_time is not None and now - last_time > stall_s:
        out.append(Alert('stall', 'warning',
                         _('No training step for {time}: the run may be stuck (data loader, disk, a paused process). '
                           'Check the console, then stop and resume it.').format(time=_minutes(now - last_time))))
    out += latent_alerts(steps, values, collapse_dims)
    start = gan_start(steps, phase_1)
    if start is not None:
        if current_step >= start or any(k in steps for k in GAN_KEYS):
            out.append(Alert('phase', 'info', _('Adversarial training (phase 2) started at step {step}.')
                             .format(step=formatting.count(start)), start))
        else:
            out.append(Alert('phase', 'info', _('Warm-up: adversarial training starts at step {step}.')
                             .format(step=formatting.count(start)), start))
    return out


def _array(column) -> np.ndarray:
    return column.array if isinstance(column, Column) else np.asarray(column)


def _minutes(seconds: float) -> str:
    return f'{seconds / 60:.0f} min' if seconds >= 90 else f'{seconds:.0f} s'
