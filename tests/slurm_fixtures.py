"""A real one-node SLURM on localhost for the cluster tests: munged, MariaDB, slurmdbd, slurmctld and slurmd,
all under one temporary folder (sockets, state, logs there; free TCP ports), brought up once per session.

    from tests.slurm_fixtures import slurm  # noqa: F401  (a session fixture: a Slurm with .conf, .env)

`fake_slurm` is the other end: stand-in SLURM clients (sbatch, squeue, sacct, scancel, scontrol, sinfo) on PATH
that answer what a test tells them — or hang, like a controller that does not answer — for what a real
cluster cannot be made to do on cue (seconds, no daemons).

The recipe (issue 13): ProctrackType=proctrack/linuxproc and TaskPlugin=task/none need no cgroups,
SelectType=select/cons_tres, node CPUs=2; slurmdbd with MariaDB gives `sacct`, which submitit reads. Every
readiness probe runs under `timeout 5`. Skipped with the reason when the Debian packages are not installed
(studio.sh test installs them: slurmctld slurmd slurmdbd munge mariadb-server slurm-client).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

PROGRAMS = ('munged', 'mariadbd', 'mariadb-install-db', 'slurmdbd', 'slurmctld', 'slurmd', 'sbatch', 'sacctmgr')
SBIN = ('/usr/sbin', '/usr/bin', '/usr/local/sbin')
CLUSTER = 'studio'
PARTITION = 'debug'


@dataclass
class Slurm:
    """The running cluster: its config file and the environment its clients (sbatch, squeue, sacct) need."""
    root: Path
    conf: Path
    node: str
    env: dict = field(default_factory=dict)
    processes: list = field(default_factory=list)

    def run(self, *argv: str, timeout: float = 5.0) -> subprocess.CompletedProcess:
        return subprocess.run(['timeout', str(int(timeout)), *argv], env={**os.environ, **self.env},
                              capture_output=True, text=True)


CLIENTS = ('sbatch', 'squeue', 'sacct', 'scancel', 'scontrol', 'sinfo')
CLIENT = """#!/bin/sh
# a stand-in SLURM client: hangs while hang-NAME exists (at most 60 s), then says NAME.out (on stderr when it
# fails, as SLURM does) and exits with NAME.rc
name=$(basename "$0")
dir=$(dirname "$0")
echo "$name $*" >> "$dir/calls"
n=0
while [ -e "$dir/hang-$name" ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n+1)); done
rc=$(cat "$dir/$name.rc" 2>/dev/null || echo 0)
if [ "$rc" = 0 ]; then cat "$dir/$name.out" 2>/dev/null; else cat "$dir/$name.out" >&2 2>/dev/null; fi
exit "$rc"
"""


@dataclass
class FakeSlurm:
    """Stand-in SLURM clients in `bin`, first on PATH: each answers its `answer` (or hangs after `hang`)."""
    bin: Path

    def answer(self, client: str, out: str, code: int = 0) -> None:
        (self.bin / f'{client}.out').write_text(out + ('\n' if out and not out.endswith('\n') else ''))
        (self.bin / f'{client}.rc').write_text(str(code))
        (self.bin / f'hang-{client}').unlink(missing_ok=True)

    def hang(self, *clients: str) -> None:
        for client in clients:
            (self.bin / f'hang-{client}').touch()

    def calls(self, client: str) -> list[str]:
        path = self.bin / 'calls'
        return [line for line in path.read_text().splitlines() if line.startswith(client + ' ')] \
            if path.exists() else []


@pytest.fixture
def fake_slurm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    folder = tmp_path / 'fake-slurm'
    folder.mkdir()
    for client in CLIENTS:
        (folder / client).write_text(CLIENT)
        (folder / client).chmod(0o755)
    monkeypatch.setenv('PATH', f'{folder}{os.pathsep}{os.environ["PATH"]}')
    fake = FakeSlurm(folder)
    yield fake
    for client in CLIENTS:  # nothing hangs past the test
        (folder / f'hang-{client}').unlink(missing_ok=True)


def missing() -> list[str]:
    return [p for p in PROGRAMS if not _which(p)]


@pytest.fixture(scope='session')
def slurm():
    if missing():
        pytest.skip('SLURM is not installed here (missing: ' + ', '.join(missing()) + '); ./studio.sh test '
                    'installs slurmctld slurmd slurmdbd munge mariadb-server slurm-client where it may.')
    root = Path(tempfile.mkdtemp(prefix='studio-slurm-'))
    cluster = Slurm(root, root / 'slurm.conf', socket.gethostname().split('.')[0])
    try:
        _start(cluster)
    except Exception:
        _stop(cluster)
        raise
    saved = {k: os.environ.get(k) for k in cluster.env}
    os.environ.update(cluster.env)  # the studio's own sbatch/squeue/sacct calls (and submitit's) find it
    yield cluster
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    _stop(cluster)


def _start(c: Slurm) -> None:
    r = c.root
    for sub in ('state', 'spool', 'db', 'log', 'munge'):
        (r / sub).mkdir()
    ports = _free_ports(4)
    db_port, dbd_port, ctld_port, slurmd_port = ports
    munge_socket = r / 'munge' / 'munge.sock'
    key = r / 'munge' / 'munge.key'
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    (r / 'munge').chmod(0o711)
    _daemon(c, [_which('munged'), '--foreground', '--force', f'--socket={munge_socket}', f'--key-file={key}',
                f'--pid-file={r}/munge/munged.pid', f'--log-file={r}/log/munged.log',
                f'--seed-file={r}/munge/seed'])
    _wait(lambda: munge_socket.exists(), 'munged')

    subprocess.run([_which('mariadb-install-db'), f'--datadir={r}/db', '--user=root',
                    '--auth-root-authentication-method=normal', '--skip-test-db'],
                   capture_output=True, check=True, timeout=120)
    db_socket = r / 'mysql.sock'
    _daemon(c, [_which('mariadbd'), '--no-defaults', f'--datadir={r}/db', f'--socket={db_socket}',
                f'--port={db_port}', '--bind-address=127.0.0.1', '--user=root', f'--pid-file={r}/mysql.pid',
                f'--log-error={r}/log/mariadb.log', '--innodb-buffer-pool-size=16M', '--skip-name-resolve'])
    sql = ("CREATE USER IF NOT EXISTS 'slurm'@'%' IDENTIFIED BY 'slurm'; "
           "GRANT ALL ON *.* TO 'slurm'@'%'; FLUSH PRIVILEGES;")
    _wait(lambda: _ok(['mariadb', '--no-defaults', f'--socket={db_socket}', '-uroot', '-e', sql]), 'MariaDB', 60)

    auth = f'AuthType=auth/munge\nAuthInfo=socket={munge_socket}\n'
    dbd_conf = r / 'slurmdbd.conf'
    dbd_conf.write_text(
        f'{auth}DbdHost=localhost\nDbdAddr=127.0.0.1\nDbdPort={dbd_port}\nSlurmUser=root\n'
        f'StorageType=accounting_storage/mysql\nStorageHost=127.0.0.1\nStoragePort={db_port}\n'
        f'StorageUser=slurm\nStoragePass=slurm\nStorageLoc=slurm_acct_db\n'
        f'PidFile={r}/slurmdbd.pid\nLogFile={r}/log/slurmdbd.log\n')
    dbd_conf.chmod(0o600)
    c.conf.write_text(
        f'ClusterName={CLUSTER}\nSlurmctldHost={c.node}(127.0.0.1)\n{auth}CredType=cred/munge\n'
        f'SlurmUser=root\nSlurmdUser=root\nSlurmctldPort={ctld_port}\nSlurmdPort={slurmd_port}\n'
        f'StateSaveLocation={r}/state\nSlurmdSpoolDir={r}/spool\n'
        f'SlurmctldPidFile={r}/slurmctld.pid\nSlurmdPidFile={r}/slurmd.pid\n'
        f'SlurmctldLogFile={r}/log/slurmctld.log\nSlurmdLogFile={r}/log/slurmd.log\n'
        'ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n'
        'SelectType=select/cons_tres\nSelectTypeParameters=CR_Core\n'
        'SchedulerType=sched/backfill\nMpiDefault=none\nReturnToService=2\nKillWait=30\n'
        'InactiveLimit=0\nMinJobAge=300\nSlurmctldTimeout=30\nSlurmdTimeout=30\n'
        'JobAcctGatherType=jobacct_gather/none\nJobCompType=jobcomp/none\n'
        f'AccountingStorageType=accounting_storage/slurmdbd\nAccountingStorageHost=localhost\n'
        f'AccountingStoragePort={dbd_port}\nAccountingStoragePass={munge_socket}\n'
        f'NodeName={c.node} NodeAddr=127.0.0.1 CPUs=2 RealMemory=2048 State=UNKNOWN\n'
        f'PartitionName={PARTITION} Nodes={c.node} Default=YES MaxTime=INFINITE State=UP\n')
    c.env = {'SLURM_CONF': str(c.conf)}
    _daemon(c, [_which('slurmdbd'), '-D'], env=c.env)  # it reads slurmdbd.conf beside SLURM_CONF
    _wait(lambda: _ok_in(c, ['sacctmgr', '-i', 'add', 'cluster', CLUSTER])
          or CLUSTER in c.run('sacctmgr', '-n', '-P', 'list', 'cluster', 'format=cluster').stdout,
          'slurmdbd', 60)
    _daemon(c, [_which('slurmctld'), '-D', '-i', '-f', str(c.conf)], env=c.env)
    _wait(lambda: _ok_in(c, ['scontrol', 'ping']), 'slurmctld', 60)
    _daemon(c, [_which('slurmd'), '-D', '-N', c.node, '-f', str(c.conf)], env=c.env)
    _wait(lambda: c.run('sinfo', '-h', '-o', '%t').stdout.strip() in ('idle', 'mix', 'alloc'), 'slurmd', 60)


def _stop(c: Slurm) -> None:
    if c.env:  # end this cluster's jobs first, so no slurmstepd outlives its slurmd
        c.run('scancel', '--full', '--user', 'root')
        try:
            _wait(lambda: not c.run('squeue', '-h', '-o', '%i').stdout.strip(), 'the jobs\' end', 15)
        except RuntimeError:
            pass
    for proc in reversed(c.processes):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in reversed(c.processes):
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
    shutil.rmtree(c.root, ignore_errors=True)


def _daemon(c: Slurm, argv: list[str], env: dict | None = None) -> None:
    log = open(c.root / 'log' / f'{Path(argv[0]).name}.out', 'ab')  # noqa: SIM115 (the daemon's life)
    c.processes.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        env={**os.environ, **(env or {})}, start_new_session=True))
    log.close()


def _wait(ready, what: str, within_s: float = 30.0) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.2)
    raise RuntimeError(f'{what} did not come up within {within_s:.0f} s')


def _ok(argv: list[str]) -> bool:
    return subprocess.run(['timeout', '5', *argv], capture_output=True).returncode == 0


def _ok_in(c: Slurm, argv: list[str]) -> bool:
    return c.run(*argv).returncode == 0


def _which(program: str) -> str | None:
    return shutil.which(program) or next((f'{d}/{program}' for d in SBIN if os.access(f'{d}/{program}', os.X_OK)),
                                         None)


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(('127.0.0.1', 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports
