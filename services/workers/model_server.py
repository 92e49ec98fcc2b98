"""Worker: the model server, one long-lived process holding one exported RAVE model warm for the Play pages.

    python -m services.workers.model_server --model M.ts|RUN/…/CKPT.ckpt --fd N [--threads 2]

It talks over the connected socket N it inherits from its client (services/models/server.py), in the frames of
services/workers/protocol.py: first `ready` with the model's facts (or `error` saying in words why the model did
not load, then exit 2), then one answer per request until the socket closes. A request that fails answers
`error` with a sentence and the server keeps serving. Every answer carries the process's RSS.

Audio travels as float32 `[channels, samples]` with its rate; the server resamples it to the model's rate and
matches the model's channels (one rule, here). Latents travel as `[dimensions, frames]`. One `seed` per request
drives every random draw (numpy for keyframes and jitter, torch for the decoder's noise), so the same seed and
settings give byte-identical audio (at the same thread count: another one changes the last bit of some samples).
Each new input shape is run twice before it is served (TorchScript profiles the first calls at a new shape: slow,
§8 of RAVE_NOTES), so what comes back always comes from the warm graph."""
from __future__ import annotations

import argparse
import math
import os
import socket
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from services.workers import play_requests, protocol
from services.workers.protocol import BadRequest

STREAMING_MODULES = {'CachedConv1d', 'CachedConvTranspose1d', 'CachedPadding1d'}
ENCODE_CHUNK = 2 ** 20  # samples; longer audio is encoded in pieces of this length (23.8 s at 44.1 kHz)
MAX_RENDER_S = 300.0
MAX_INPUT_S = 3600.0


class LoadError(Exception):
    """The model cannot be served; the message says why in words."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--model', required=True)
    parser.add_argument('--fd', type=int, required=True, help='inherited connected socket')
    parser.add_argument('--threads', type=int, default=max(1, min(4, os.cpu_count() or 1)))
    args = parser.parse_args(argv)
    sock = socket.socket(fileno=args.fd)
    try:
        model = Model.load(Path(args.model), args.threads)
    except LoadError as e:
        protocol.send(sock, {'event': 'error', 'message': str(e)})
        return 2
    protocol.send(sock, {'event': 'ready', **model.facts(), 'rss_bytes': rss_bytes()})
    Server(model, sock).serve()
    return 0


class Model:
    """A RAVE model as `rave export` makes it (a non-streaming .ts, or a checkpoint scripted the same way in memory):
    deterministic or sampled encode, seeded decode, prior."""

    def __init__(self, module, path: Path, torch) -> None:
        self.module, self.path, self.torch = module, path, torch
        self.sr = int(module.sr)
        self.n_channels = int(module.n_channels)
        self.target_channels = int(getattr(module, 'target_channels', self.n_channels))
        self.latent_size = int(module.latent_size)
        self.full_latent_size = int(getattr(module, 'full_latent_size', self.latent_size))
        self.ratio = int(module.encode_params[3])
        encoder = getattr(module, 'encoder', None)
        self.variational = (getattr(encoder, 'original_name', '') == 'VariationalEncoder'
                            and all(hasattr(module, n) for n in ('latent_mean', 'latent_pca', 'pqmf')))
        self.methods = [str(n) for n in module.get_methods()] if hasattr(module, 'get_methods') else []
        self.has_prior = 'prior' in self.methods
        self.warm: set[tuple] = set()

    @classmethod
    def load(cls, path: Path, threads: int) -> Model:
        if not path.is_file():
            raise LoadError(f'{path} does not exist: export the run again or pick another model.')
        import torch  # only here: the server is one of the processes allowed to load torch
        torch.set_num_threads(max(1, threads))
        torch.set_num_interop_threads(1)
        torch.set_grad_enabled(False)
        warnings.filterwarnings('ignore', message='.*torch.jit.*deprecated')
        if path.suffix == '.ckpt':
            module = _script_checkpoint(path, torch)
        else:
            try:
                module = torch.jit.load(str(path), map_location='cpu').eval()
            except (RuntimeError, ValueError, OSError) as e:
                raise LoadError(f'{path.name} is not a TorchScript export torch can load '
                                f'({_last_line(e).split(". ")[0].rstrip(".")}). '
                                'Pick a .ts file made by RAVE export, or a run\'s .ckpt.') from e
        missing = [n for n in ('encode', 'decode', 'sr', 'n_channels', 'latent_size', 'encode_params')
                   if not hasattr(module, n)]
        if missing:
            raise LoadError(f'{path.name} loads but is not a RAVE export: it has no {", ".join(missing)}.')
        # the prior keeps its own state by design (RAVE's prior continues from its previous call): not streaming
        if any(m.original_name in STREAMING_MODULES for name, m in module.named_modules()
               if not name.startswith('prior_module')):
            raise LoadError(f'{path.name} is a streaming export (for nn~ and the VST): its state makes every render '
                            'depend on the one before. Export the run without --streaming to play it here.')
        return cls(module, path, torch)

    def facts(self) -> dict:
        return {'model': str(self.path), 'sr': self.sr, 'n_channels': self.n_channels,
                'target_channels': self.target_channels, 'latent_size': self.latent_size,
                'full_latent_size': self.full_latent_size, 'ratio': self.ratio, 'frame_rate': self.sr / self.ratio,
                'variational': self.variational, 'has_prior': self.has_prior, 'methods': self.methods,
                'threads': self.torch.get_num_threads(), 'pid': os.getpid()}

    def conform(self, audio: np.ndarray, sr: int | None) -> np.ndarray:
        """Audio `[channels, samples]` at `sr` → float32 at the model's rate with the model's channel count."""
        x = np.atleast_2d(np.asarray(audio, np.float32))
        if x.ndim != 2 or x.shape[1] == 0:
            raise BadRequest(f'Audio must be [channels, samples] with samples in it, not {list(np.shape(audio))}.')
        if not np.isfinite(x).all():
            raise BadRequest('The audio holds NaN or infinite samples.')
        sr = self.sr if sr is None else sr
        if not isinstance(sr, int) or isinstance(sr, bool) or sr <= 0:
            raise BadRequest(f'A sample rate is a positive whole number of Hz, not {sr!r}.')
        if x.shape[1] / sr > MAX_INPUT_S:
            raise BadRequest(f'{x.shape[1] / sr:.0f} s of audio is more than one request takes ({MAX_INPUT_S:.0f} s).')
        if x.shape[0] != self.n_channels:
            x = x.mean(axis=0, keepdims=True) if self.n_channels == 1 or x.shape[0] != 1 else x
            x = np.repeat(x, self.n_channels, axis=0) if x.shape[0] == 1 else x
        if sr != self.sr:
            import torchaudio
            x = torchaudio.functional.resample(self.torch.from_numpy(np.ascontiguousarray(x)), sr, self.sr).numpy()
        return np.ascontiguousarray(x, np.float32)

    def encode(self, x: np.ndarray, sample: bool = False, seed: int = 0, bucket: int = 0) -> np.ndarray:
        """z[latent_size, ceil(T / ratio)]: the posterior mean (VAE exports) unless `sample`, in pieces."""
        frames = math.ceil(x.shape[1] / self.ratio)
        step = bucket or self.ratio
        pieces = []
        for start in range(0, x.shape[1], ENCODE_CHUNK):
            piece = x[:, start:start + ENCODE_CHUNK]
            padded = np.pad(piece, ((0, 0), (0, -piece.shape[1] % step)))
            tensor = self.torch.from_numpy(padded)[None]
            if sample or not self.variational:
                self._warm('encode', self.module.encode, tensor)
                self.torch.manual_seed(seed)
                z = self.module.encode(tensor)
            else:
                z = self._warm('mean', self._posterior_mean, tensor)
            pieces.append(z[0, :self.latent_size].numpy()[:, :math.ceil(piece.shape[1] / self.ratio)])
        return np.concatenate(pieces, axis=1)[:, :frames]

    def decode(self, z: np.ndarray, seed: int) -> np.ndarray:
        """Audio [target_channels, frames × ratio] of z, with the decoder's noise drawn after
        torch.manual_seed(seed)."""
        if z.ndim != 2 or not 1 <= z.shape[0] <= self.full_latent_size or z.shape[1] < 1:
            raise BadRequest(f'A latent must be [dimensions ≤ {self.full_latent_size}, frames ≥ 1], '
                             f'not {list(z.shape)}.')
        if z.shape[1] / self.frame_rate > MAX_RENDER_S:
            raise BadRequest(f'{z.shape[1] / self.frame_rate:.0f} s is longer than one render may be '
                             f'({MAX_RENDER_S:.0f} s).')
        if not np.isfinite(z).all():
            raise BadRequest('The latent holds NaN or infinite values.')
        tensor = self.torch.from_numpy(np.ascontiguousarray(z, np.float32))[None]
        self._warm('decode', self.module.decode, tensor, result=False)
        self.torch.manual_seed(seed)
        return self.module.decode(tensor)[0].numpy()

    def prior(self, n_frames: int, temperature: float, seed: int) -> np.ndarray:
        """z[latent_size, n_frames] from the export's prior (RAVE's prior keeps state between calls)."""
        if not self.has_prior:
            raise BadRequest(f'{self.path.name} has no prior. Train a prior for its run and export them together.')
        tensor = self.torch.ones(1, 1, n_frames) * float(temperature)
        self._warm('prior', self.module.prior, tensor, result=False)
        self.torch.manual_seed(seed)
        return self.module.prior(tensor)[0, :self.latent_size].numpy()

    @property
    def frame_rate(self) -> float:
        return self.sr / self.ratio

    def _posterior_mean(self, x):
        """RAVE's encode without the sampling: mean half of the encoder output, centred, PCA-rotated."""
        m, torch = self.module, self.torch
        if m.input_mode == 'pqmf':
            bands = m.pqmf(x.reshape(-1, 1, x.shape[-1]))
            x = bands.reshape(x.shape[0], -1, bands.shape[-1])
        mean = torch.chunk(m.encoder(x), 2, 1)[0]
        return torch.conv1d(mean - m.latent_mean.unsqueeze(-1), m.latent_pca.unsqueeze(-1))

    def _warm(self, name: str, method, tensor, result: bool = True):
        """Run `method` twice at a shape it has not seen; returns its output when `result` (deterministic ones)."""
        key = (name, tuple(tensor.shape))
        if key not in self.warm:
            method(tensor)
            out = method(tensor)
            self.warm.add(key)
            return out if result else None
        return method(tensor) if result else None


class Server:
    """The request loop: one request at a time, answered with progress frames then a result or an error."""

    def __init__(self, model: Model, sock: socket.socket) -> None:
        self.model, self.sock = model, sock
        self.served = 0
        self.started = time.time()

    def serve(self) -> None:
        while True:
            try:
                header, arrays = protocol.receive(self.sock)
            except protocol.ProtocolError:
                return  # the client closed the socket or died: nothing left to serve
            if header.get('op') == 'close':
                protocol.send(self.sock, {'event': 'result', 'id': header.get('id')})
                return
            self.answer(header, arrays)

    def answer(self, header: dict, arrays: dict[str, np.ndarray]) -> None:
        op, rid, started = str(header.get('op')), header.get('id'), time.perf_counter()
        handler = play_requests.HANDLERS.get(op)
        try:
            if handler is None:
                raise BadRequest(f'The model server does not know the request {op!r}.')
            facts, out = handler(self, header, arrays)
            reply = {'event': 'result', **facts}
        except ValueError as e:  # BadRequest and latent.py's checks: sentences meant for the user
            reply, out = {'event': 'error', 'message': _last_line(e)}, {}
        except MemoryError:
            reply, out = {'event': 'error', 'message': f'The model ran out of memory on {op}; ask for less audio.'}, {}
        except Exception as e:  # noqa: BLE001 (a crashed request must come back in words, not end the server)
            reply, out = {'event': 'error', 'message': f'The model failed on {op}: {_last_line(e)}'}, {}
        self.served += 1
        reply.update(id=rid, op=op, elapsed_s=time.perf_counter() - started, rss_bytes=rss_bytes())
        try:
            protocol.send(self.sock, reply, out)
        except (OSError, ValueError) as e:
            protocol.send(self.sock, {'event': 'error', 'id': rid, 'op': op, 'message': f'The answer could not be '
                                      f'sent: {e}', 'rss_bytes': rss_bytes()})

    def progress(self, header: dict, done: int, total: int, what: str) -> None:
        protocol.send(self.sock, {'event': 'progress', 'id': header.get('id'), 'done': done, 'total': total,
                                  'what': what})


def _script_checkpoint(path: Path, torch):
    """A run's checkpoint made into what `rave export` would write (non-streaming, fidelity .95), kept in memory.

    The same steps as RAVE's scripts/export.py main(), with its own ScriptedRAVE classes: the result decodes
    bit-identically to the .ts that `rave export` makes of the same checkpoint.
    """
    import cached_conv
    import gin
    import rave
    import rave.blocks
    import rave.core
    from scripts import export  # RAVE's export script, for its wrappers; importing it only defines flags

    cached_conv.use_cached_conv(False)
    config = rave.core.search_for_config(str(path))
    if config is None or not Path(config).is_file():
        raise LoadError(f'No config.gin was found beside {path.name} (RAVE looks in its folder and the two above); '
                        'serve a checkpoint inside its run folder.')
    try:
        gin.parse_config_file(config)
        pretrained = rave.RAVE()
        checkpoint = torch.load(str(path), map_location='cpu', weights_only=False)
        pretrained.load_state_dict(checkpoint['state_dict'], strict=False)
    except Exception as e:  # gin, unpickling and state-dict errors all mean: this checkpoint will not load
        raise LoadError(f'{path.name} could not be loaded as a RAVE checkpoint: {_last_line(e)}') from e
    pretrained.eval()
    for m in pretrained.modules():
        if hasattr(m, 'weight_g'):
            torch.nn.utils.remove_weight_norm(m)
    wrappers = {rave.blocks.VariationalEncoder: export.VariationalScriptedRAVE,
                rave.blocks.DiscreteEncoder: export.DiscreteScriptedRAVE,
                rave.blocks.WasserteinEncoder: export.WasserteinScriptedRAVE,
                rave.blocks.SphericalEncoder: export.SphericalScriptedRAVE}
    wrapper = next((w for kind, w in wrappers.items() if isinstance(pretrained.encoder, kind)), None)
    if wrapper is None:
        raise LoadError(f'{path.name} has a {type(pretrained.encoder).__name__}, which RAVE cannot export.')
    return torch.jit.script(wrapper(pretrained=pretrained, fidelity=0.95)).eval()


def rss_bytes() -> int:
    import psutil
    return int(psutil.Process().memory_info().rss)


def _last_line(error: BaseException) -> str:
    """The telling line of an error (TorchScript puts its own traceback before the actual message)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


if __name__ == '__main__':
    sys.exit(main())
