#!/usr/bin/env bash
# The test command: the whole suite on the tiny model zoo (built on first use, then cached).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -n "${VIRTUAL_ENV:-}" ] || . .venv/bin/activate
exec python -m pytest -q "$@"
