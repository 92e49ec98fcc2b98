"""The install doctor: is everything a RAVE job needs present and working on this machine?

Each check says what it found and, when it fails, what to do. The job Python is asked by a subprocess (the UI
process never imports torch); the whole round is slow (seconds), so `Doctor.run` goes off the event loop and its
report is kept until "Check again".
"""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from services.settings import check_python

FREE_FAIL_GB = 1.0  # below this a preprocess or a checkpoint may not fit at all
FREE_WARN_GB = 10.0  # a dataset and a run's checkpoints take gigabytes
PACKAGES = ('acids-rave', 'torch', 'torchaudio', 'lightning', 'pytorch-lightning', 'gin-config', 'numpy', 'scipy')
PROBE = r'''
import importlib.metadata as m, json, sys
out = {'python': sys.version.split()[0], 'executable': sys.executable, 'packages': {}}
for name in sys.argv[1:]:
    try:
        out['packages'][name] = m.version(name)
    except m.PackageNotFoundError:
        out['packages'][name] = None
try:
    import torch, torchaudio
    torchaudio.functional.resample(torch.zeros(1, 64), 44100, 22050)  # its kernels run, not only import
    out['torch'] = {'version': torch.__version__, 'torchaudio': torchaudio.__version__, 'cuda': torch.version.cuda,
                    'cuda_available': bool(torch.cuda.is_available())}
except Exception as e:
    out['torch_error'] = f'{type(e).__name__}: {e}'
print(json.dumps(out))
'''


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # 'ok' | 'warn' | 'fail'
    detail: str  # what was found
    fix: str = ''  # what to do, when it is not ok


@dataclass(frozen=True)
class DoctorReport:
    checks: tuple[Check, ...]
    when: float  # epoch seconds
    probe: dict  # what the job Python said about itself (versions), for the diagnostics bundle

    @property
    def failed(self) -> int:
        return sum(c.status == 'fail' for c in self.checks)


def probe(python: str, timeout: float = 120.0) -> dict:
    """Versions of the job Python and its packages, and whether torch and torchaudio import together (the
    only place the studio learns about torch: in that Python, not in its own process)."""
    try:
        out = subprocess.run([shutil.which(python) or python, '-c', PROBE, *PACKAGES], capture_output=True,
                             text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        return {'error': f'{python} could not be run: {e}'}
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {'error': f'{python} did not answer (exit {out.returncode}): {out.stderr.strip()[-300:]}'}


def tool_version(tool: str) -> str:
    """The first line of `tool -version` ('' when the tool is missing or does not answer)."""
    found = shutil.which(tool)
    if found is None:
        return ''
    try:
        out = subprocess.run([found, '-version'], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ''
    return (out.stdout.strip().splitlines() or [''])[0]


def nvidia_smi() -> str:
    """'name, driver, memory' per GPU as nvidia-smi says ('' without nvidia-smi or a driver)."""
    if shutil.which('nvidia-smi') is None:
        return ''
    try:
        out = subprocess.run(['nvidia-smi', '--query-gpu=name,driver_version,memory.total', '--format=csv,noheader'],
                             capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ''
    return out.stdout.strip() if out.returncode == 0 else ''


class Doctor:
    """Runs the checks and keeps the last report."""

    def __init__(self, data_dir: Path, python: Callable[[], str], folders: Callable[[], list[Path]]) -> None:
        self.data_dir = data_dir
        self._python = python
        self._folders = folders  # the project folders, which jobs write into
        self._lock = threading.Lock()
        self.last: DoctorReport | None = None

    def run(self) -> DoctorReport:
        """Check everything now (seconds: off the event loop); two calls at once run it once."""
        with self._lock:
            python = self._python()
            found = probe(python)
            checks = (*[self._tool(t) for t in ('ffmpeg', 'ffprobe')], self._job_python(python, found),
                      self._torch(found), self._disk(), self._gpu(found), self._write())
            self.last = DoctorReport(checks, time.time(), found)
            return self.last

    def _tool(self, tool: str) -> Check:
        version = tool_version(tool)
        if version:
            return Check(tool, 'ok', version)
        return Check(tool, 'fail', f'{tool} was not found on the PATH.',
                     f'RAVE reads audio through {tool}: install ffmpeg (Debian/Ubuntu: sudo apt-get install ffmpeg; '
                     'macOS: brew install ffmpeg), then restart the studio.')

    def _job_python(self, python: str, found: dict) -> Check:
        problem = str(check_python(python))
        if problem:
            return Check('Python for jobs', 'fail', problem,
                         f'Install RAVE into it ({python} -m pip install acids-rave), or empty Settings → Python '
                         'interpreter to use the studio\'s own.')
        rave = (found.get('packages') or {}).get('acids-rave')
        return Check('Python for jobs', 'ok', f'{python} (Python {found.get("python", "?")}), acids-rave {rave}')

    def _torch(self, found: dict) -> Check:
        if 'error' in found:
            return Check('torch and torchaudio', 'fail', found['error'], 'Check the Python interpreter in Settings.')
        if 'torch_error' in found:
            return Check('torch and torchaudio', 'fail', f'They do not import together: {found["torch_error"]}',
                         'Install a matching pair in the job Python, e.g. pip install "torch==2.1.*" '
                         '"torchaudio==2.1.*" (torchaudio\'s version follows torch\'s).')
        torch = found['torch']
        pair = f'torch {torch["version"]}, torchaudio {torch["torchaudio"]}'
        if _older(torch['torchaudio'], '2.9') and _release(torch['version']) != _release(torch['torchaudio']):
            return Check('torch and torchaudio', 'warn', f'{pair}: not built for each other.',
                         f'Install the torchaudio of torch {_release(torch["version"])} '
                         f'(pip install "torchaudio=={_release(torch["version"])}.*").')
        build = f', CUDA {torch["cuda"]}' if torch.get('cuda') else ', CPU build'
        return Check('torch and torchaudio', 'ok', pair + build)

    def _disk(self) -> Check:
        free = shutil.disk_usage(self.data_dir).free / 1024 ** 3
        detail = f'{free:.1f} GB free in {self.data_dir}'
        if free < FREE_FAIL_GB:
            return Check('Disk space', 'fail', detail, 'Free some space (old runs\' checkpoints are large), or start '
                         'the studio with --data-dir on a bigger disk.')
        if free < FREE_WARN_GB:
            return Check('Disk space', 'warn', detail, 'A dataset and a run\'s checkpoints take several GB: free '
                         'some space before a long training.')
        return Check('Disk space', 'ok', detail)

    def _gpu(self, found: dict) -> Check:
        gpus = nvidia_smi()
        cuda = bool((found.get('torch') or {}).get('cuda_available'))
        if gpus and cuda:
            return Check('GPU and driver', 'ok', gpus.replace('\n', '; '))
        if gpus:
            return Check('GPU and driver', 'warn', f'{gpus.replace(chr(10), "; ")}, but torch in the job Python '
                         'cannot use it.', 'Install a CUDA build of torch that this driver supports (pytorch.org '
                         'lists the pairs), or train on the CPU.')
        return Check('GPU and driver', 'warn', 'No NVIDIA GPU or driver found (nvidia-smi): training runs on the CPU, '
                     'which suits tiny models only.', 'On a machine with an NVIDIA GPU, install its driver '
                     '(nvidia-smi should then list it); the studio needs nothing else.')

    def _write(self) -> Check:
        folders = [self.data_dir, self.data_dir / 'jobs', *self._folders()]
        refused = [str(f) for f in dict.fromkeys(folders) if f.is_dir() and not _writable(f)]
        if refused:
            return Check('Write access', 'fail', f'Cannot write into {", ".join(refused)}.',
                         'Give your user write permission on these folders (chmod u+w), or move the data folder.')
        return Check('Write access', 'ok', f'The data folder and {len(folders) - 2} project folder(s) are writable.')


def _release(version: str) -> str:
    """'2.1' of '2.1.2+cu121'."""
    return '.'.join(version.split('+')[0].split('.')[:2])


def _older(version: str, than: str) -> bool:
    """Until 2.9 torchaudio's compiled part was built for one torch release (later ones import by themselves)."""
    try:
        return tuple(int(x) for x in _release(version).split('.')) < tuple(int(x) for x in than.split('.'))
    except ValueError:
        return False


def _writable(folder: Path) -> bool:
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix='.doctor-'):
            return True
    except OSError:
        return False
