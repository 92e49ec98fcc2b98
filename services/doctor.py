"""The install doctor: is everything a RAVE job needs present and working on this machine?

Each check says what it found and, when it fails, what to do. The job Python is asked by a subprocess (the UI
process never imports torch); the whole round is slow (seconds), so `Doctor.run` goes off the event loop and its
report is kept until "Check again". What a check says is put into words when it is shown (`services.i18n.lazy`):
the kept report reads in the language of whoever looks at it, and in English in the diagnostics bundle.
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

from services import formatting
from services.i18n import N_, Lazy, lazy
from services.settings import check_python

FREE_FAIL_GB = 1.0  # below this a preprocess or a checkpoint may not fit at all
FREE_WARN_GB = 10.0  # a dataset and a run's checkpoints take gigabytes
TORCH, GPU = N_('torch and torchaudio'), N_('GPU and driver')  # checks' names
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
    name: str  # marked for the catalogue (N_), translated where shown
    status: str  # 'ok' | 'warn' | 'fail'
    detail: str | Lazy  # what was found
    fix: str | Lazy = ''  # what to do, when it is not ok


class Figure:
    """A number written for the language of whoever reads the sentence it is in (see `lazy`)."""

    def __init__(self, value: float, places: int | None = None) -> None:
        self.value, self.places = value, places

    def __format__(self, spec: str) -> str:
        return formatting.number(self.value, self.places)


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
        return Check(tool, 'fail', lazy('{tool} was not found on the PATH.', tool=tool),
                     lazy('RAVE reads audio through {tool}: install ffmpeg (Debian/Ubuntu: sudo apt-get install '
                          'ffmpeg; macOS: brew install ffmpeg), then restart the studio.', tool=tool))

    def _job_python(self, python: str, found: dict) -> Check:
        problem = check_python(python)
        if str(problem):
            return Check(N_('Python for jobs'), 'fail', problem,
                         lazy("Install RAVE into it ({python} -m pip install acids-rave), or empty Settings → Python "
                              "interpreter to use the studio's own.", python=python))
        rave = (found.get('packages') or {}).get('acids-rave')
        return Check(N_('Python for jobs'), 'ok', f'{python} (Python {found.get("python", "?")}), acids-rave {rave}')

    def _torch(self, found: dict) -> Check:
        if 'error' in found:
            return Check(TORCH, 'fail', found['error'], lazy('Check the Python interpreter in Settings.'))
        if 'torch_error' in found:
            return Check(TORCH, 'fail', lazy('They do not import together: {error}', error=found['torch_error']),
                         lazy('Install a matching pair in the job Python, e.g. pip install "torch==2.1.*" '
                              '"torchaudio==2.1.*" (torchaudio\'s version follows torch\'s).'))
        torch = found['torch']
        pair = f'torch {torch["version"]}, torchaudio {torch["torchaudio"]}'
        if _older(torch['torchaudio'], '2.9') and _release(torch['version']) != _release(torch['torchaudio']):
            return Check(TORCH, 'warn', lazy('{pair}: not built for each other.', pair=pair),
                         lazy('Install the torchaudio of torch {release} (pip install "torchaudio=={release}.*").',
                              release=_release(torch['version'])))
        if torch.get('cuda'):
            return Check(TORCH, 'ok', f'{pair}, CUDA {torch["cuda"]}')
        return Check(TORCH, 'ok', lazy('{pair}, CPU build', pair=pair))

    def _disk(self) -> Check:
        free = shutil.disk_usage(self.data_dir).free / 1024 ** 3
        detail = lazy('{free} GB free in {folder}', free=Figure(free, 1), folder=self.data_dir)
        if free < FREE_FAIL_GB:
            return Check(N_('Disk space'), 'fail', detail,
                         lazy("Free some space (old runs' checkpoints are large), or start the studio with --data-dir "
                              'on a bigger disk.'))
        if free < FREE_WARN_GB:
            return Check(N_('Disk space'), 'warn', detail, lazy("A dataset and a run's checkpoints take several GB: "
                                                                'free some space before a long training.'))
        return Check(N_('Disk space'), 'ok', detail)

    def _gpu(self, found: dict) -> Check:
        gpus = nvidia_smi()
        cuda = bool((found.get('torch') or {}).get('cuda_available'))
        if gpus and cuda:
            return Check(GPU, 'ok', gpus.replace('\n', '; '))
        if gpus:
            return Check(GPU, 'warn', lazy('{gpus}, but torch in the job Python cannot use it.',
                                           gpus=gpus.replace('\n', '; ')),
                         lazy('Install a CUDA build of torch that this driver supports (pytorch.org lists the pairs), '
                              'or train on the CPU.'))
        return Check(GPU, 'warn', lazy('No NVIDIA GPU or driver found (nvidia-smi): training runs on the CPU, which '
                                       'suits tiny models only.'),
                     lazy('On a machine with an NVIDIA GPU, install its driver (nvidia-smi should then list it); the '
                          'studio needs nothing else.'))

    def _write(self) -> Check:
        folders = [self.data_dir, self.data_dir / 'jobs', *self._folders()]
        refused = [str(f) for f in dict.fromkeys(folders) if f.is_dir() and not _writable(f)]
        if refused:
            return Check(N_('Write access'), 'fail', lazy('Cannot write into {folders}.', folders=', '.join(refused)),
                         lazy('Give your user write permission on these folders (chmod u+w), or move the data '
                              'folder.'))
        return Check(N_('Write access'), 'ok', lazy('The data folder and {count} project folder(s) are writable.',
                                                    count=len(folders) - 2))


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
