"""Model statistics worker: what a RAVE checkpoint holds, read by building the model RAVE would build.

    python -m services.workers.model_stats CHECKPOINT OUT.json

It parses the run's operative config.gin (the folder above the checkpoint) with RAVE's own gin setup, builds
`rave.RAVE`, loads the checkpoint's weights, and writes OUT.json: parameter counts per top-level module
(encoder, decoder, discriminator, …), the receptive field (RAVE's own `get_rave_receptive_field`), the
compression ratio, the latent size and the fidelity curve's dimensions at 80/90/95/99 %, and the module tree
with each module's output shape on one second of silence through encode → reparametrize → decode (discriminator modules
have no shape: they do not run there). Failures are written as {"error": sentence}.
"""
from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from pathlib import Path

MAX_DEPTH = 6  # the tree's depth below the model; deeper modules are counted in their parent
MAX_NODES = 1500


def main() -> None:
    checkpoint, out = Path(sys.argv[1]), Path(sys.argv[2])
    started = time.monotonic()
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # RAVE prints
            answer = stats(checkpoint)
    except Exception as e:  # noqa: BLE001 — any failure is the answer, in words
        answer = {'error': f'{type(e).__name__}: {e}'[:600]}
    answer['seconds'] = round(time.monotonic() - started, 2)
    answer['checkpoint'] = str(checkpoint)
    answer['stamp'] = checkpoint.stat().st_mtime if checkpoint.exists() else None
    tmp = out.with_suffix('.tmp')
    tmp.write_text(json.dumps(answer))
    tmp.replace(out)


def stats(checkpoint: Path) -> dict:
    import gin
    import rave
    import rave.core
    import torch
    config = next((p / 'config.gin' for p in checkpoint.parents if (p / 'config.gin').exists()), None)
    if config is None:
        raise FileNotFoundError(f'no config.gin in a folder above {checkpoint.name}')
    gin.clear_config()
    gin.parse_config_files_and_bindings([str(config)], [])
    model = rave.RAVE()
    state = torch.load(str(checkpoint), map_location='cpu', weights_only=False)['state_dict']
    missing, unexpected = model.load_state_dict(state, strict=False)
    model.eval()
    channels = int(getattr(model, 'n_channels', 1) or 1)
    sr = int(model.sr)
    shapes = _shapes(model, channels, sr)
    left, right = rave.core.get_rave_receptive_field(model, n_channels=channels)
    length = 2 ** 17
    with torch.no_grad():
        z = model.encode(torch.zeros(1, channels, length))
    fidelity = [float(v) for v in getattr(model, 'fidelity', torch.zeros(0)).tolist()]
    return {'sr': sr, 'channels': channels, 'compression': length // z.shape[-1],
            'receptive_field': [left, right], 'latent_size': int(getattr(model, 'latent_size', z.shape[1])),
            'fidelity': fidelity, 'fidelity_dims': {str(f): _dims(fidelity, f) for f in (0.8, 0.9, 0.95, 0.99)},
            'parameters': sum(p.numel() for p in model.parameters()),
            'modules': [[name, sum(p.numel() for p in child.parameters())] for name, child in model.named_children()],
            'tree': _tree('model', model, shapes, 0, [0]), 'config': str(config),
            'missing_keys': len(missing), 'unexpected_keys': len(unexpected)}


def _shapes(model, channels: int, sr: int) -> dict:
    """Each module's output shape on one second of silence through encode → reparametrize → decode."""
    import torch
    shapes, hooks = {}, []
    names = {module: name for name, module in model.named_modules()}

    def hook(module, _inputs, output):
        if isinstance(output, torch.Tensor):
            shapes.setdefault(names[module], list(output.shape))
        elif isinstance(output, (tuple, list)) and output and isinstance(output[0], torch.Tensor):
            shapes.setdefault(names[module], list(output[0].shape))
    for module in names:
        hooks.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            length = max(2 ** 14, sr // 2 ** 11 * 2 ** 11)
            z = model.encode(torch.zeros(1, channels, length))
            model.decode(model.encoder.reparametrize(z)[0])
    finally:
        for h in hooks:
            h.remove()
    return shapes


def _tree(name: str, module, shapes: dict, depth: int, count: list[int], path: str = '') -> dict:
    count[0] += 1
    node = {'name': name, 'type': type(module).__name__, 'parameters': sum(p.numel() for p in module.parameters()),
            'shape': shapes.get(path)}
    children = list(module.named_children())
    if children and depth < MAX_DEPTH and count[0] < MAX_NODES:
        node['children'] = [_tree(child_name, child, shapes, depth + 1, count,
                                  f'{path}.{child_name}' if path else child_name)
                            for child_name, child in children]
    elif children:
        node['folded'] = len(children)
    return node


def _dims(fidelity: list[float], share: float) -> int | None:
    """Latent dimensions needed for `share` of the variance (RAVE's export picks from this curve)."""
    return next((i + 1 for i, v in enumerate(fidelity) if v > share), len(fidelity) or None)


if __name__ == '__main__':
    main()
