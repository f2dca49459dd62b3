#!/usr/bin/env bash
# Create .venv in the project root and install the pinned toolchain into it.
# Idempotent: reinstalls only when requirements.lock or pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

python_bin="${PYTHON:-python3.11}"
command -v "$python_bin" >/dev/null 2>&1 || python_bin=python3
if ! "$python_bin" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    echo "northstar needs Python 3.11 (found $("$python_bin" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
    exit 1
fi

[ -x .venv/bin/python ] || "$python_bin" -m venv .venv
stamp=.venv/.northstar-installed
want=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "==> installing pinned dependencies into .venv (about a minute)"
    # This machine's pip.conf lists local mirror folders that may not exist; pip warns
    # about each one on every package. The filter drops only those lines.
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.lock \
        2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e . \
        2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
    echo "$want" > "$stamp"
fi
