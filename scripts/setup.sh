#!/usr/bin/env bash
# Create .venv and install rasflow with its test tools (idempotent).
#
# The interpreter: $RASFLOW_PYTHON when set; else the distribution's /usr/bin/python3 when it
# is >= 3.11; else the first python3 on PATH. The model is interpreter-bound, and Debian and
# Ubuntu build their CPython with PGO and LTO: guest-UE flows run ~12-15% faster on it than on
# a plain ./configure build such as pyenv's default (measured on Debian 12: 3.11.2 vs 3.11.7).
set -euo pipefail
cd "$(dirname "$0")/.."
is_311() { "$1" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }
if [ ! -x .venv/bin/python ]; then
  python=${RASFLOW_PYTHON:-}
  if [ -z "$python" ]; then
    python=python3
    if [ -x /usr/bin/python3 ] && is_311 /usr/bin/python3; then
      python=/usr/bin/python3
    fi
  fi
  is_311 "$python" || { echo "setup: $python is not a Python >= 3.11 with venv and ensurepip (Debian: apt-get install python3-venv)"; exit 2; }
  "$python" -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
