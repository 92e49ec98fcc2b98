"""The shared real-RAVE artefacts are what later tests assume (and a canary for the RAVE install)."""
import torch  # the test process may import torch; the studio's UI process never does


def test_export_encodes_and_decodes(rave_export) -> None:
    model = torch.jit.load(str(rave_export)).eval()
    x = torch.randn(1, 1, 44100) * 0.1
    with torch.no_grad():
        z = model.encode(x)
        y = model.decode(z)
    assert z.shape[0] == 1 and z.shape[2] == -(-44100 // 512)
    assert y.shape[-1] >= 44100 and torch.isfinite(y).all()
