#!/usr/bin/env bash
# RAVE Studio set-up and launcher. Installs what is missing, then runs the studio or its tests.
#   ./studio.sh [rave-studio options]     set up, then start the studio (e.g. --native, --share)
#   ./studio.sh test [pytest options]     set up (with test tools), then run the test suite
# The virtual environment is shared between checkouts (it is ~6 GB): $RAVE_STUDIO_VENV,
# default ~/.cache/rave-studio/venv. The Python must be 3.10 or 3.11 (RAVE pins scipy 1.10).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${RAVE_STUDIO_VENV:-$HOME/.cache/rave-studio/venv}"
MODE=run
if [ "${1:-}" = test ]; then MODE=test; shift; fi
NATIVE=0
for a in "$@"; do [ "$a" = --native ] && NATIVE=1; done
[ $MODE = test ] && NATIVE=1

say() { printf '\033[1;35m[rave-studio]\033[0m %s\n' "$*" >&2; }

find_python() {
  local c v
  for c in "${RAVE_STUDIO_PYTHON:-}" python3.11 python3.10 \
           "$HOME"/.pyenv/versions/3.11*/bin/python3 "$HOME"/.pyenv/versions/3.10*/bin/python3 \
           /usr/local/bin/python3.11 /usr/bin/python3.11 python3; do
    [ -n "$c" ] || continue
    command -v "$c" >/dev/null 2>&1 || [ -x "$c" ] || continue
    v=$("$c" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || continue
    case "$v" in 3.10|3.11) echo "$c"; return 0 ;; esac
  done
  return 1
}

apt_install() {  # install Debian packages that are missing, when we may
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      say "Missing system packages: ${missing[*]}. Install them (apt-get install ${missing[*]}) and run again."
      return 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    say "Missing system packages: ${missing[*]} (no apt-get here: install them with your package manager)."
    return 1
  fi
  say "Installing system packages: ${missing[*]}"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

SYS=(ffmpeg build-essential)
[ $NATIVE = 1 ] && SYS+=(xvfb python3-gi gir1.2-gtk-3.0 gir1.2-webkit2-4.1 libgirepository1.0-dev libcairo2-dev pkg-config)
[ $MODE = test ] && SYS+=(chromium chromium-driver espeak-ng sox xdotool x11-utils
  slurmctld slurmd slurmdbd munge mariadb-server slurm-client rsync)  # one-node SLURM (tests/slurm_fixtures.py), rsync
[ $MODE = test ] && ! command -v npm >/dev/null 2>&1 && SYS+=(npm)  # axe-core for the accessibility test
apt_install "${SYS[@]}"

if [ ! -x "$VENV/bin/python" ]; then
  PY=$(find_python) || { say "RAVE needs Python 3.10 or 3.11 (its scipy pin). Install one (e.g. apt-get install python3.11, or pyenv install 3.11) or set RAVE_STUDIO_PYTHON."; exit 1; }
  say "Creating the environment in $VENV with $PY"
  mkdir -p "$(dirname "$VENV")"
  "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q -U pip
fi

EXTRAS=""
[ $MODE = test ] && EXTRAS="test"
[ $NATIVE = 1 ] && EXTRAS="${EXTRAS:+$EXTRAS,}native"
STAMP="$VENV/.rave-studio-stamp"
WANT="$(sha256sum "$REPO/pyproject.toml" | cut -c1-16) $EXTRAS $REPO"
HAVE="$(cat "$STAMP" 2>/dev/null || true)"
if [ "$HAVE" != "$WANT" ]; then
  # deps first (skipped by pip when satisfied), then the checkout itself as an editable install
  say "Installing Python packages (first run: several GB, a few minutes)"
  "$VENV/bin/python" -m pip install -q -e "$REPO${EXTRAS:+[$EXTRAS]}"
  echo "$WANT" > "$STAMP"
fi

if [ $MODE = test ]; then
  cd "$REPO"
  # the browser tests' own tools (package.json: axe-core), from the npm registry at the lock's versions
  if [ ! -f node_modules/axe-core/axe.min.js ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    say "Installing the browser tests' tools (npm ci)"
    npm ci --no-audit --no-fund --silent || say "npm ci failed: tests/test_a11y.py will say so"
  fi
  exec "$VENV/bin/python" -m pytest "$@"
fi
exec "$VENV/bin/rave-studio" "$@"
