# Sourced by run.sh and test.sh: a project-local virtualenv with Veza and its dev tools.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
# Chromaprint's fpcalc (Debian's libchromaprint-tools): uploads are fingerprinted against the
# recordings taken down for copyright. Installed when this machine can (root and apt-get);
# otherwise the server warns at start and matches re-uploads by their bytes only.
if ! command -v fpcalc >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing fpcalc (libchromaprint-tools)..." >&2
  (apt-get install -y -qq libchromaprint-tools >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq libchromaprint-tools >/dev/null 2>&1; }) \
    || echo "could not install libchromaprint-tools; continuing without fpcalc" >&2
fi
