"""Model testing worker: audio through a checkpoint or an export, with the metrics that fit RAVE-like codecs.

    python -m services.workers.model_test REQUEST.json

REQUEST: {"model": ".ckpt or .ts path", "out": folder, "files": [audio paths]} or, instead of files,
{"dataset": LMDB folder, "limit": N} for the dataset's held-out examples (RAVE's own validation split:
`split_dataset` with 98 %, at most 1000, seed 42 — rave/dataset.py). Each input is resampled to the model's
rate, encoded (posterior mean) and decoded; OUT/NNN_in.wav and OUT/NNN_out.wav are written with the metrics:

- multi-resolution STFT distance (auraloss `MultiResolutionSTFTLoss`, its defaults),
- mel distance (auraloss `MelSTFTLoss`, 2048-point FFT, 128 mel bands),
- SI-SDR in dB (auraloss `SISDRLoss`, negated: higher is better),
- integrated loudness in LUFS of both and their difference (pyloudnorm, ITU-R BS.1770-4),
- with `"speech": true` (the user's choice: a dataset marked speech, or the test page's switch) the speech
  metrics on the mono mix at 16 kHz: PESQ wide band (pesq, ITU-T P.862.2) and STOI (pystoi).

Prints `[model_test] <fraction> <what>` lines for the job's progress (`parse` reads them in the job's host) and
writes OUT/result.json: {model, kind, sr, speech, files: [{name, input, output, seconds, model_seconds, metrics,
input_envelope, output_envelope}], aggregate: {metric: mean}, model_seconds} or {error: sentence}.

Throughput (bench/bench_model_testing.py: as close to raw TorchScript on the same files as it gets): the model
runs on the main thread, and each file's metrics, WAVs and envelopes are made on one other thread while the next
file goes through the model (TorchScript releases the GIL; that thread's torch runs single-threaded, so it fills
the cores the model leaves idle instead of fighting it); the last file's are made on the main thread, with the
model's threads, as nothing is left to overlap them with. The metrics' own imports (auraloss, pyloudnorm and its
scipy.signal) happen there too, while the first file goes through the model; torchaudio is imported only to
resample (and for the mel filters); inputs are read one by one as their turn comes.
"""
from __future__ import annotations

import functools
import json
import os
import re
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from services import lazy

np = lazy.module('numpy')  # on first use: the studio imports this module for `parse` alone

METRICS = ('mrstft', 'mel', 'si_sdr', 'lufs_in', 'lufs_out', 'lufs_diff', 'pesq', 'stoi')
MIN_SECONDS = 0.5  # shorter inputs give no integrated loudness (a 400 ms gating block)
SPEECH_RATE = 16_000  # PESQ wide band is defined at 16 kHz
# OpenMP threads that sleep while they wait instead of spinning: on a busy machine (a training beside the test,
# other users) spinning model threads steal the cores from each other — 2 to 3 times the time at a load of 8 on
# 2 cores; on an idle one sleeping costs next to nothing. Read by OpenMP when torch loads; the user's own wins.
THREADS_ENV = {'OMP_WAIT_POLICY': 'PASSIVE'}
_LINE = re.compile(r'^\[model_test\] ([\d.]+) (.*)$')


def parse(line: str) -> dict | None:
    """`[model_test] 0.420 tone.wav` → {'fraction': 0.42, 'stage': 'tone.wav'} (the job kind's console parser: it
    lives here, beside the lines it reads, so the job's host imports nothing heavy to read them)."""
    m = _LINE.match(line.strip())
    return {'fraction': float(m.group(1)), 'stage': m.group(2)} if m else None


def main() -> None:
    for name, value in THREADS_ENV.items():
        os.environ.setdefault(name, value)
    request = json.loads(Path(sys.argv[1]).read_text())
    out = Path(request['out'])
    out.mkdir(parents=True, exist_ok=True)
    try:
        result = run(request, out)
    except Exception as e:  # noqa: BLE001 — any failure is the result, in words
        result = {'error': f'{type(e).__name__}: {e}'[:800]}
    (out / 'result.tmp').write_text(json.dumps(result))
    (out / 'result.tmp').replace(out / 'result.json')
    print('[model_test] 1.0 done', flush=True)
    sys.stderr.flush()
    os._exit(0)  # all is written: the job ends now, not after torch's teardown (seconds on a loaded machine)


def run(request: dict, out: Path) -> dict:
    import torch
    torch.set_grad_enabled(False)
    torch.get_num_threads()  # settles this thread's count (torch's default) before the metrics thread sets its own
    speech = bool(request.get('speech'))
    with ThreadPoolExecutor(1, thread_name_prefix='metrics', initializer=_beside) as beside:
        _progress(0.0, 'loading the model')
        model, kind, sr, channels = load(Path(request['model']))
        metrics = beside.submit(Metrics, sr, speech)  # its imports while the first file goes through the model
        count, inputs = _inputs(request, sr, channels)
        measured, spent = [], 0.0
        for i, (name, audio) in enumerate(inputs):
            _progress(0.05 + 0.95 * i / max(count, 1), name)
            x = torch.from_numpy(audio[None]).float()
            started = time.perf_counter()
            y = reconstruct(model, kind, x)
            elapsed = time.perf_counter() - started
            spent += elapsed
            n = min(x.shape[-1], y.shape[-1])
            pair = (out, i, name, x[0, :, :n].numpy(), y[0, :, :n].numpy(), sr, elapsed, metrics)
            if i < count - 1:
                measured.append(beside.submit(_measure, *pair))
            else:  # the last file's metrics on this thread, with the model's threads: nothing else is left to run
                measured.append(_done(_measure(*pair)))
        files = [f.result() for f in measured]
    aggregate = {m: float(np.mean([f['metrics'][m] for f in files if f['metrics'].get(m) is not None]))
                 for m in METRICS if any(f['metrics'].get(m) is not None for f in files)}
    return {'model': request['model'], 'kind': kind, 'sr': sr, 'channels': channels, 'speech': speech,
            'files': files, 'aggregate': aggregate, 'model_seconds': spent}


def _done(value) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future


def load(path: Path):
    """(model, 'export' | 'checkpoint', sample rate, channels)."""
    import torch
    if path.suffix == '.ts':
        model = torch.jit.load(str(path), map_location='cpu').eval()
        return model, 'export', int(model.sr), int(getattr(model, 'n_channels', 1) or 1)
    import gin
    import rave
    config = next((p / 'config.gin' for p in path.parents if (p / 'config.gin').exists()), None)
    if config is None:
        raise FileNotFoundError(f'no config.gin in a folder above {path.name}: is it a RAVE checkpoint?')
    gin.clear_config()
    gin.parse_config_files_and_bindings([str(config)], [])
    model = rave.RAVE()
    model.load_state_dict(torch.load(str(path), map_location='cpu', weights_only=False)['state_dict'], strict=False)
    model.eval()
    for module in model.modules():  # whole files at once: no streaming caches
        if hasattr(module, 'gru_state') or hasattr(module, 'temporal'):
            module.disable()
    return model, 'checkpoint', int(model.sr), int(getattr(model, 'n_channels', 1) or 1)


def reconstruct(model, kind: str, x):
    """Encode to the posterior mean and decode, as `rave export`'s encode and decode do."""
    if kind == 'export':
        return model.decode(model.encode(x))
    z = model.encode(x)
    if type(model.encoder).__name__ == 'VariationalEncoder':
        z = z[:, :z.shape[1] // 2]
    else:
        z = model.encoder.reparametrize(z)[0]
    return model.decode(z)


def _beside() -> None:
    """The metrics thread's torch runs on one core: the model keeps the others."""
    import torch
    torch.set_num_threads(1)  # a thread's own (once it has run torch): the model's thread keeps its count
    torch.set_grad_enabled(False)  # grad mode is per thread too


class Metrics:
    """The codec metrics of one original/reconstruction pair (channels × samples, same length)."""

    def __init__(self, sr: int, speech: bool = False) -> None:
        import auraloss
        import pyloudnorm
        self.sr, self.speech = sr, speech
        self.mrstft = auraloss.freq.MultiResolutionSTFTLoss()
        for loss in self.mrstft.stft_losses:
            _without_phase(loss)
        self.mel = mel_loss(sr)
        self.si_sdr = auraloss.time.SISDRLoss()
        self.meter = pyloudnorm.Meter(sr)

    def __call__(self, original: np.ndarray, rebuilt: np.ndarray) -> dict:
        import torch
        a, b = torch.from_numpy(original[None]).float(), torch.from_numpy(rebuilt[None]).float()
        found = {'mrstft': float(self.mrstft(b, a)), 'mel': float(self.mel(b, a)),
                 'si_sdr': -float(self.si_sdr(b, a))}
        if original.shape[-1] >= MIN_SECONDS * self.sr:
            lufs_in, lufs_out = (float(self.meter.integrated_loudness(s.T.astype(np.float64)))
                                 for s in (original, rebuilt))
            finite = np.isfinite([lufs_in, lufs_out]).all()
            found.update(lufs_in=lufs_in if np.isfinite(lufs_in) else None,
                         lufs_out=lufs_out if np.isfinite(lufs_out) else None,
                         lufs_diff=lufs_out - lufs_in if finite else None)
        if self.speech:
            found.update(speech_metrics(original, rebuilt, self.sr))
        return {k: (v if v is None or np.isfinite(v) else None) for k, v in found.items()}


def mel_loss(sr: int, n_mels: int = 128):
    """auraloss's `MelSTFTLoss(sample_rate=sr, fft_size=2048, hop_size=512, win_length=2048, n_mels=n_mels)`,
    its mel filterbank made by torchaudio (the Slaney filters librosa makes, tests/test_model_testing.py
    compares both): auraloss builds it with librosa, whose import alone cost 1.5 s of an 8-file batch test."""
    import auraloss
    import torchaudio
    loss = auraloss.freq.STFTLoss(fft_size=2048, hop_size=512, win_length=2048, sample_rate=sr, n_bins=n_mels)
    banks = torchaudio.functional.melscale_fbanks(2048 // 2 + 1, 0.0, sr / 2, n_mels, sr, norm='slaney',
                                                  mel_scale='slaney')
    loss.scale = 'mel'  # what MelSTFTLoss sets; STFTLoss.forward then applies `fb` to both magnitudes
    loss.register_buffer('fb', banks.T.unsqueeze(0).float())
    return _without_phase(loss)


def _without_phase(loss):
    """An auraloss `STFTLoss` that skips the phase of its spectra: it computes it (`torch.angle`, half of its
    time) for a phase term whose weight is 0 here, so the loss is the same."""
    assert not loss.w_phs, 'the phase term needs the phase'
    loss.stft = functools.partial(_magnitude, loss)
    return loss


def _magnitude(loss, x):
    """`STFTLoss.stft` without the phase: the magnitude exactly as auraloss computes it."""
    import torch
    spectrum = torch.stft(x, loss.fft_size, loss.hop_size, loss.win_length, loss.window, return_complex=True)
    return torch.sqrt(torch.clamp(spectrum.real ** 2 + spectrum.imag ** 2, min=loss.eps)), None


def speech_metrics(original: np.ndarray, rebuilt: np.ndarray, sr: int) -> dict:
    """PESQ (wide band, 1–4.6) and STOI (0–1) of a speech recording and its reconstruction (channels × samples),
    on their mono mix resampled to 16 kHz. PESQ is None where it finds no utterance (silence, under ~1 s)."""
    from math import gcd

    from pesq import PesqError, pesq
    from pystoi import stoi
    from scipy.signal import resample_poly
    up, down = SPEECH_RATE // gcd(sr, SPEECH_RATE), sr // gcd(sr, SPEECH_RATE)
    reference, degraded = (resample_poly(np.asarray(x, dtype=np.float64).mean(axis=0), up, down)
                           for x in (original, rebuilt))
    quality = None
    if np.any(reference):  # silence holds no utterance (and PESQ would divide by its zero peak)
        try:
            quality = float(pesq(SPEECH_RATE, reference, degraded, 'wb'))
        except PesqError:
            pass
    return {'pesq': quality, 'stoi': float(stoi(reference, degraded, SPEECH_RATE, extended=False))}


def _inputs(request: dict, sr: int, channels: int):
    """(how many, the inputs one by one as (name, channels × samples at `sr`)): each is read when its turn comes."""
    if request.get('dataset'):
        return _held_out(request['dataset'], int(request.get('limit') or 8), channels)
    paths = [Path(p) for p in request['files']]
    return len(paths), ((path.name, _read(path, sr, channels)) for path in paths)


def _read(path: Path, sr: int, channels: int) -> np.ndarray:
    import soundfile as sf
    data, rate = sf.read(str(path), dtype='float32', always_2d=True)
    audio = data.T
    if rate != sr:
        import torch
        import torchaudio
        audio = torchaudio.functional.resample(torch.from_numpy(audio.copy()), rate, sr).numpy()
    if audio.shape[0] != channels:  # a mono model hears the mix; a stereo one the mono file twice
        audio = np.repeat(audio.mean(0, keepdims=True), channels, axis=0)
    return np.ascontiguousarray(audio)


def _held_out(db_path: str, limit: int, channels: int):
    """RAVE's validation examples of an LMDB dataset, as `rave train` splits it."""
    import torch
    from rave.dataset import AudioDataset
    dataset = AudioDataset(db_path, n_channels=channels)
    n = len(dataset)
    train = max(98 * n // 100, 1)
    val = min(1000, n - train)
    _, held = torch.utils.data.random_split(range(n), [n - val, val], generator=torch.Generator().manual_seed(42))
    picked = list(held)[:limit]
    return len(picked), ((f'example {index}', np.asarray(dataset[index], dtype=np.float32).reshape(channels, -1))
                         for index in picked)


def _measure(out: Path, i: int, name: str, original: np.ndarray, rebuilt: np.ndarray, sr: int, elapsed: float,
             metrics: Future) -> dict:
    """One file's metrics, its two WAVs and envelopes (on the metrics thread)."""
    import soundfile as sf

    from services import audio
    found = metrics.result()(original, rebuilt)
    paths = [out / f'{i:03d}_in.wav', out / f'{i:03d}_out.wav']
    for path, data in zip(paths, (original, rebuilt), strict=True):
        sf.write(str(path), np.clip(data.T, -1, 1), sr, subtype='PCM_16')
    return {'name': name, 'input': str(paths[0]), 'output': str(paths[1]), 'seconds': original.shape[-1] / sr,
            'model_seconds': elapsed, 'metrics': found,
            'input_envelope': audio.envelope(original), 'output_envelope': audio.envelope(rebuilt)}


def _progress(fraction: float, what: str) -> None:
    print(f'[model_test] {fraction:.3f} {what}', flush=True)


if __name__ == '__main__':
    main()
