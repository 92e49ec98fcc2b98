"""The export workers on real tiny RAVE models on CPU: every target exported, then verified in a fresh process.

Each worker runs as the job engine runs it (`python -m services.workers.<name>` with RAVE_STUDIO_JOB_DIR) and
is judged by its contract: progress lines on stdout, a result file, the files it writes. The crafted bad
cases (a truncated .ts, a model decoding to silence, an ONNX export of a config the route does not carry)
must each fail with their own message.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rave_fixtures import TINY_TRAIN, run_cli

from services.progress import parser_for

RESULTS = {'export': 'export.json', 'export_onnx': 'export_onnx.json', 'export_neutone': 'export_neutone.json',
           'verify_export': 'verification.json'}


def run_worker(module: str, *args: str, job: Path, timeout: float = 1800) -> tuple[int, dict, str]:
    """(exit code, result file, output) of one worker run in its own job folder."""
    job.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(('PYTEST_', 'NICEGUI_'))}
    env['RAVE_STUDIO_JOB_DIR'] = str(job)
    out = subprocess.run([sys.executable, '-m', f'services.workers.{module}', *args], cwd=job, env=env,
                         capture_output=True, text=True, timeout=timeout, check=False)
    output = out.stdout + out.stderr
    result_file = job / RESULTS[module]
    assert result_file.is_file(), f'{module} wrote no result:\n{output[-4000:]}'
    return out.returncode, json.loads(result_file.read_text()), output


def played_through(model: str, audio: Path, out: Path) -> dict:
    """The viewer's test player: one audio file through an export by the reconstruct worker; its result, after
    checking the sound it wrote is finite, audible and as long as the input."""
    import soundfile as sf
    done = subprocess.run([sys.executable, '-m', 'services.workers.reconstruct', '--model', model,
                           '--input', str(audio), '--output', str(out)], capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    result = json.loads((out / 'reconstruction.json').read_text())
    played, original = sf.read(out / 'output.wav')[0], sf.read(out / 'input.wav')[0]
    assert played.shape[0] == original.shape[0] > 0 and np.isfinite(played).all()
    assert np.sqrt(np.mean(played ** 2)) > 1e-4, 'the export played silence'
    return result


def stage_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith('{"stage"')]


def checks_of(verification: dict) -> dict[str, dict]:
    return {c['check']: c for c in verification['checks']}


@pytest.fixture(scope='module')
def workers(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp('workers')


@pytest.fixture(scope='module')
def streaming_export(workers: Path, rave_run: Path) -> tuple[int, dict, str]:
    """The tiny run exported by the studio's TorchScript worker with --streaming."""
    return run_worker('export', '--run', str(rave_run), '--streaming', '--name', 'tiny',
                      '--output', str(workers / 'exports'), job=workers / 'job-streaming')


@pytest.fixture(scope='module')
def onnx_export(workers: Path, rave_run: Path) -> tuple[int, dict, str]:
    return run_worker('export_onnx', '--run', str(rave_run), '--name', 'tiny', '--output', str(workers / 'onnx'),
                      job=workers / 'job-onnx')


def _train(rave_workspace: Path, rave_db: Path, name: str, *config: str) -> Path:
    """A tiny run of another config than the shared one (2 steps, validated once), by the plain CLI."""
    flags = list(TINY_TRAIN)
    at = flags.index('--config')
    del flags[at:at + 2]
    out = rave_workspace / 'runs'
    run_cli(['train', *flags, *config, '--db_path', str(rave_db), '--out_path', str(out), '--name', name,
             '--max_steps', '2', '--val_every', '2'], rave_workspace)
    return next(out.glob(f'{name}_*'))


# ---- contracts without RAVE -----------------------------------------------------------------------------

def test_stage_lines_become_job_progress() -> None:
    line = '{"stage": "script", "fraction": 0.6, "message": "Compiling the model to TorchScript"}'
    for kind in ('export', 'export_onnx', 'export_neutone', 'verify_export'):
        assert parser_for(kind)(line) == {'stage': 'script', 'fraction': 0.6,
                                          'message': 'Compiling the model to TorchScript'}
    assert parser_for('export')('INFO:root:all good ! model exported to /x/tiny.ts') == {'exported': '/x/tiny.ts'}
    assert parser_for('export_onnx')('{"stage": broken') is None


def test_equivalent_command_leaves_out_the_studio_flags() -> None:
    from services.workers.export import equivalent_command
    assert equivalent_command(['--run', '/r un', '--result', '/j/x.json', '--streaming', '--result=/y']) == \
        "rave export --run '/r un' --streaming"


def test_neutone_export_refuses_every_connection() -> None:
    from services.workers.export_neutone import NetworkRefused, no_network
    attempts: list[str] = []
    connect, create = socket.socket.connect, socket.create_connection
    with no_network(attempts), pytest.raises(NetworkRefused):
        socket.create_connection(('example.org', 443), timeout=1)
    with no_network(attempts), socket.socket() as s, pytest.raises(OSError):
        s.connect(('192.0.2.1', 80))
    assert len(attempts) == 2
    assert (socket.socket.connect, socket.create_connection) == (connect, create)


def test_host_verdicts_say_the_nn_tilde_torch_caveat_plainly() -> None:
    from services.workers.verify_hosts import hosts, latency, torch_caveat
    assert torch_caveat('2.5.1') == '' and torch_caveat('2.4.0+cpu') == ''
    assert 'not verified' in torch_caveat('2.14.1+cu130') and '2.5.1' in torch_caveat('2.14.1')
    assert 'unknown' in torch_caveat(None)
    broken = hosts('torchscript', {}, {'verification': False})  # the verification itself failed: no facts
    assert [h['verdict'] for h in broken] == ['no'] * 4
    rows = latency({'sr': 44100, 'compression_ratio': 512, 'streaming_delay_samples': 928})
    assert rows[0] == {'buffer': 256, 'samples': 512 + 928, 'ms': 32.7, 'includes_model_delay': True}
    assert rows[-1]['samples'] == 8192 + 928


# ---- TorchScript ----------------------------------------------------------------------------------------

@pytest.mark.slow
def test_torchscript_export_reports_stages_and_keeps_its_provenance(streaming_export, rave_run: Path) -> None:
    import torch
    code, result, output = streaming_export
    assert code == 0, output[-3000:]
    assert f'[studio] equivalent command: rave export --run {rave_run} --streaming --name tiny' in output
    stages = [s['stage'] for s in stage_lines(output)]
    assert stages[0] == 'load' and stages[-1] == 'done'
    assert [s for s in stages if s != 'test methods'] == ['load', 'script', 'save', 'done']
    tested = [(s['method'], s['message']) for s in stage_lines(output) if s['stage'] == 'test methods']
    assert [m for m, _ in tested] == ['encode', 'encode', 'decode', 'decode', 'forward', 'forward']
    assert result['status'] == 'done' and result['streaming'] is True and result['vst'] is True
    assert Path(result['path']).name == 'tiny_streaming.ts' and Path(result['path']).stat().st_size == result['size']
    assert [s['stage'] for s in result['stages']][-1] == 'done' and all(s['s'] >= 0 for s in result['stages'])
    assert any('weight_norm' in w for w in result['warnings'])  # RAVE's warnings are kept
    extra = {'rave_studio.json': ''}
    torch.jit.load(result['path'], _extra_files=extra)
    made = json.loads(extra['rave_studio.json'])
    assert made['versions']['torch'] == torch.__version__.split('+')[0] and made['step'] == 4
    assert made['command'] == result['command'] and made['checkpoint'] == result['checkpoint']


@pytest.mark.slow
def test_streaming_export_verifies_against_the_offline_export(streaming_export, rave_export: Path,
                                                              workers: Path) -> None:
    path = streaming_export[1]['path']
    code, result, output = run_worker('verify_export', '--export', path, '--offline', str(rave_export),
                                      job=workers / 'job-verify-streaming')
    assert code == 0 and result['status'] == 'passed', output[-3000:]
    checks = checks_of(result)
    assert [c for c, v in checks.items() if v['ok'] is None] == ['prior']
    assert 'batch 1 and 4' in checks['methods']['message']
    assert 'behind' in checks['streaming']['message']
    facts = result['facts']
    assert facts['streaming'] and facts['sr'] == 44100 and facts['latent'] == f'{facts["latent_size"]} of 128'
    assert facts['compression_ratio'] == 512 and facts['step'] == 4 and facts['size'] > 1_000_000
    assert 0 < facts['streaming_delay_samples'] < 44100 and facts['latency'][3]['includes_model_delay']
    assert set(facts['methods']) == {'encode', 'decode', 'forward'}
    assert facts['methods']['encode'] == [1, 1, facts['latent_size'], 512]
    hosts = {h['host']: h for h in result['hosts']}
    assert hosts['nn~ (Max/MSP, PureData)']['verdict'] == 'caveat'
    assert '2.5.1' in hosts['nn~ (Max/MSP, PureData)']['message']
    assert hosts['Neutone']['verdict'] == 'ready'
    assert [s['stage'] for s in stage_lines(output)][-1] == 'done'


@pytest.mark.slow
def test_cli_export_verifies_with_its_torch_version_unknown(rave_export: Path, workers: Path) -> None:
    code, result, output = run_worker('verify_export', '--export', str(rave_export), job=workers / 'job-verify-cli')
    assert code == 0 and result['status'] == 'passed', output[-3000:]
    checks = checks_of(result)
    assert checks['signal']['ok'] and checks['stereo']['ok'] and checks['streaming']['ok'] is None
    assert result['facts']['made_with_torch'] is None
    hosts = {h['host']: h for h in result['hosts']}
    assert hosts['nn~ (Max/MSP, PureData)']['verdict'] == 'offline'
    assert hosts["This studio's Explorer"]['verdict'] == 'ready'


@pytest.mark.slow
def test_export_refuses_a_sample_rate_that_is_no_multiple(rave_run: Path, workers: Path) -> None:
    code, result, output = run_worker('export', '--run', str(rave_run), '--sr', '30000', '--name', 'bad',
                                      '--output', str(workers / 'exports'), job=workers / 'job-bad-sr')
    assert code == 1 and result['status'] == 'failed'
    assert 'not an integer multiple' in result['message']
    assert stage_lines(output)[-1]['stage'] == 'failed'
    assert not (workers / 'exports' / 'bad.ts').exists()


# ---- prior ----------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_prior_export_plays_prior_then_decode(rave_run: Path, rave_prior: Path, rave_prior_fidelity: float,
                                             workers: Path) -> None:
    import torch
    code, result, output = run_worker('export', '--run', str(rave_run), '--prior', str(rave_prior),
                                      '--fidelity', str(rave_prior_fidelity),
                                      '--name', 'tiny_prior', '--output', str(workers / 'exports'),
                                      job=workers / 'job-prior')
    assert code == 0, output[-3000:]
    assert 'Testing prior at batch 1, as nn~ does' in [s['message'] for s in stage_lines(output)]
    assert 'prior' in [s['stage'] for s in stage_lines(output)]
    model = torch.jit.load(result['path']).eval()
    assert 'prior' in model.get_methods()
    with torch.no_grad():
        z = model.prior(torch.ones(1, 1, 16))
        y = model.decode(z)
    assert z.shape == (1, model.latent_size, 16) and torch.isfinite(z).all()
    assert torch.isfinite(y).all() and float(y.pow(2).mean().sqrt()) > 1e-4
    code, verification, output = run_worker('verify_export', '--export', result['path'],
                                            job=workers / 'job-verify-prior')
    assert code == 0, output[-3000:]
    assert checks_of(verification)['prior']['ok'] is True and verification['facts']['prior'] is True


# ---- ONNX -----------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_real_noise_matches_raves_fft_filtering(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The v2 noise generator's rewrite against RAVE's own, with amplitudes large enough to matter."""
    import onnx
    import onnxruntime as ort
    import torch
    from rave.blocks import NoiseGeneratorV2

    from services.workers.export_onnx import RealNoise
    from services.workers.onnx_numerics import drawing, random_as_inputs

    torch.manual_seed(0)
    noise = NoiseGeneratorV2(in_size=16, hidden_size=16, data_size=4, ratios=[2, 2, 2], noise_bands=8).eval()
    with torch.no_grad():
        noise.net[-1].bias.fill_(5.0)  # mod_sigmoid(x - 5) near its middle: loud, filtered noise
    x = torch.randn(2, 16, 40)
    with torch.no_grad(), drawing() as drawn:
        expected = noise(x)
    rewritten = RealNoise(noise).eval()
    with torch.no_grad(), monkeypatch.context() as patch:
        patch.setattr(torch, 'rand_like', lambda like: drawn[0][1])  # replay RAVE's draw
        got = rewritten(x)
    assert float(expected.abs().max()) > 0.1
    assert float((got - expected).abs().max() / expected.abs().max()) < 1e-5
    path = tmp_path / 'noise.onnx'
    torch.onnx.export(rewritten, (x,), str(path), dynamo=False, opset_version=17, input_names=['x'],
                      output_names=['noise'], dynamic_axes={'x': {0: 'b', 2: 't'}})
    graph, kinds = random_as_inputs(onnx.load(str(path)))
    assert [k for _, k in kinds] == ['uniform']
    session = ort.InferenceSession(graph.SerializeToString(), providers=['CPUExecutionProvider'])
    out = session.run(None, {'x': x.numpy(), kinds[0][0]: drawn[0][1].numpy()})[0]
    assert np.abs(out - expected.numpy()).max() / np.abs(expected.numpy()).max() < 1e-5


@pytest.mark.slow
def test_onnx_graphs_run_in_onnxruntime_and_verify(onnx_export, workers: Path, rave_audio: Path) -> None:
    import onnxruntime as ort
    code, result, output = onnx_export
    assert code == 0 and result['status'] == 'done', output[-3000:]
    assert [s['stage'] for s in stage_lines(output)] == ['load', 'weights', 'rewrite', 'encode graph',
                                                         'decode graph', 'verify', 'done']
    manifest = json.loads(Path(result['manifest']).read_text())
    assert manifest['opset'] == 17 and manifest['compression_ratio'] == 512 and manifest['full_latent_size'] == 128
    assert manifest['numerics']['ok'] and manifest['numerics']['encode']['max_abs_error'] < 1e-4
    folder, latent = Path(result['manifest']).parent, manifest['latent_size']
    encoder = ort.InferenceSession(str(folder / manifest['encode']), providers=['CPUExecutionProvider'])
    decoder = ort.InferenceSession(str(folder / manifest['decode']), providers=['CPUExecutionProvider'])
    for batch, frames in ((1, 7), (3, 50)):  # dynamic batch and length
        audio = (np.random.default_rng(batch).normal(0, 0.1, (batch, 1, frames * 512))).astype(np.float32)
        z = encoder.run(None, {'audio': audio})[0]
        y = decoder.run(None, {'z': z})[0]
        assert z.shape == (batch, latent, frames) and y.shape == audio.shape and np.isfinite(y).all()
    code, verification, output = run_worker('verify_export', '--export', result['manifest'],
                                            job=workers / 'job-verify-onnx')
    assert code == 0 and verification['status'] == 'passed', output[-3000:]
    assert checks_of(verification)['numerics']['ok'] is True
    assert verification['hosts'][0]['verdict'] == 'ready'
    played = played_through(result['manifest'], next(rave_audio.glob('*.wav')), workers / 'played-onnx')
    assert played['kind'] == 'ONNX' and played['latent_size'] == latent and played['compression_ratio'] == 512


@pytest.mark.slow
def test_onnx_config_exports(rave_workspace: Path, rave_db: Path, workers: Path) -> None:
    """RAVE's own `onnx` config (v1, no noise generator); LATENT_SIZE 16 so one validation example fits its PCA."""
    run = _train(rave_workspace, rave_db, 'onnxcfg', '--config', 'onnx', '--override', 'LATENT_SIZE=16')
    code, result, output = run_worker('export_onnx', '--run', str(run), '--output', str(workers / 'onnx'),
                                      job=workers / 'job-onnx-config')
    assert code == 0 and result['status'] == 'done', output[-3000:]
    assert result['compression_ratio'] == 2048 and result['full_latent_size'] == 16
    assert result['numerics']['ok'] and result['numerics']['decode']['max_abs_error'] < 1e-4


@pytest.mark.slow
def test_onnx_refuses_a_discrete_model_with_the_reason(rave_workspace: Path, rave_db: Path,
                                                       onnx_export, workers: Path) -> None:
    run = _train(rave_workspace, rave_db, 'discrete', '--config', 'discrete', '--override', 'CAPACITY=16')
    code, result, output = run_worker('export_onnx', '--run', str(run), '--output', str(workers / 'onnx'),
                                      job=workers / 'job-onnx-discrete')
    assert code == 1 and result['status'] == 'failed' and result['refused'] is True
    assert 'discrete latent' in result['message'] and 'TorchScript' in result['message']
    assert [s['stage'] for s in stage_lines(output)] == ['load', 'failed']  # refused before its weights load
    assert not list((workers / 'onnx').glob('discrete*'))
    manifest = json.loads(Path(onnx_export[1]['manifest']).read_text())
    crafted = Path(onnx_export[1]['manifest']).with_name('crafted.onnx.json')
    crafted.write_text(json.dumps({**manifest, 'checkpoint': str(next(run.rglob('best.ckpt')))}))
    code, verification, output = run_worker('verify_export', '--export', str(crafted),
                                            job=workers / 'job-verify-crafted')
    assert code == 1, output[-3000:]
    numerics = checks_of(verification)['numerics']
    assert numerics['ok'] is False and 'discrete latent' in numerics['message']


# ---- Neutone --------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_neutone_model_loads_through_the_sdk(streaming_export, rave_audio: Path, workers: Path) -> None:
    from neutone_sdk.utils import load_neutone_model
    code, result, output = run_worker(
        'export_neutone', '--model', streaming_export[1]['path'], '--output', str(workers / 'neutone'),
        '--name', 'Tiny tones', '--author', 'A. Tester', '--tag', 'tones', '--knobs', '2',
        '--description', 'A tiny test model.', '--example', str(next(rave_audio.glob('*.wav'))),
        job=workers / 'job-neutone')
    assert code == 0 and result['status'] == 'done', output[-3000:]
    assert result['examples'] == 1 and 'examples' in [s['stage'] for s in stage_lines(output)]
    samples = list(Path(result['path']).parent.rglob('*.mp3')) + list(Path(result['path']).parent.rglob('*.wav'))
    assert samples, 'the model card carries no rendered example'
    assert result['network_attempts'] == [] and result['reload']['finite'] and result['reload']['rms'] > 1e-4
    model, metadata = load_neutone_model(result['path'])
    assert model.is_input_mono() and model.is_output_mono()
    assert metadata['model_name'] == 'Tiny tones' and metadata['model_authors'] == ['A. Tester']
    assert metadata['tags'] == ['RAVE', 'tones'] and metadata['native_sample_rates'] == [44100]
    assert metadata['technical_links'] == {} and metadata['model_short_description'] == 'A tiny test model.'
    knobs = [f'Latent {i + 1}' for i in range(min(2, result['latent_size']))]  # a tiny model may have 1 latent
    assert [p['name'] for p in metadata['neutone_parameters'].values()] == result['knobs'] == knobs
    code, verification, output = run_worker('verify_export', '--export', result['path'],
                                            job=workers / 'job-verify-neutone')
    assert code == 0 and verification['status'] == 'passed', output[-3000:]
    assert verification['facts']['network_attempts'] == [] and verification['hosts'][0]['verdict'] == 'ready'
    played = played_through(result['path'], next(rave_audio.glob('*.wav')), workers / 'played-neutone')
    assert played['kind'] == 'Neutone' and played['latent_shape'] == [] and played['sr'] == 44100


@pytest.mark.slow
def test_neutone_refuses_an_offline_export(rave_export: Path, workers: Path) -> None:
    code, result, _ = run_worker('export_neutone', '--model', str(rave_export), '--output', str(workers / 'n2'),
                                 job=workers / 'job-neutone-offline')
    assert code == 1 and 'without --streaming' in result['message']


# ---- crafted bad cases ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_truncated_export_fails_to_load(rave_export: Path, workers: Path) -> None:
    truncated = workers / 'truncated.ts'
    truncated.write_bytes(rave_export.read_bytes()[: rave_export.stat().st_size // 2])
    code, result, _ = run_worker('verify_export', '--export', str(truncated), job=workers / 'job-truncated')
    assert code == 1 and result['status'] == 'failed'
    checks = checks_of(result)
    assert checks['load']['ok'] is False and 'truncated' in checks['load']['message']
    assert all(c['ok'] is None for name, c in checks.items() if name != 'load')
    assert all(h['verdict'] == 'no' for h in result['hosts'])


@pytest.mark.slow
def test_model_decoding_to_silence_fails_with_its_training_steps(rave_run: Path, workers: Path) -> None:
    import torch
    silent = workers / 'silent_run'
    (silent / 'version_0' / 'checkpoints').mkdir(parents=True, exist_ok=True)
    shutil.copy(rave_run / 'config.gin', silent / 'config.gin')
    checkpoint = torch.load(next(rave_run.rglob('best.ckpt')), map_location='cpu', weights_only=False)
    state = checkpoint['state_dict']
    gains = [k for k in state if k.startswith('decoder.waveform_module.') and k.endswith('weight_g')] or \
        [k for k in state if k.startswith('decoder.waveform_module.') and k.endswith('weight')]
    for key in gains:  # the waveform's last convolution silenced: only the (tiny) noise branch is left
        state[key].zero_()
    torch.save(checkpoint, silent / 'version_0' / 'checkpoints' / 'best.ckpt')
    code, result, output = run_worker('export', '--run', str(silent), '--name', 'silent',
                                      '--output', str(workers / 'exports'), job=workers / 'job-silent')
    assert code == 0, output[-3000:]
    code, verification, _ = run_worker('verify_export', '--export', result['path'], job=workers / 'job-verify-silent')
    assert code == 1 and verification['status'] == 'failed'
    signal = checks_of(verification)['signal']
    assert signal['ok'] is False
    steps = checkpoint['global_step']  # best.ckpt is the best validation's: step 2 or 4 of the tiny run
    assert 'Decodes to silence' in signal['message'] and \
        f'trained {steps} steps; RAVE needs hundreds of thousands' in signal['message']
    assert verification['message'].startswith('Decodes to silence')
