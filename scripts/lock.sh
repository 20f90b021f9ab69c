#!/usr/bin/env bash
# Re-resolve requirements/lock.txt: every package `aar[test]` needs, pinned, for Linux x86-64 / Python 3.11.
# torch is left out: scripts/setup.sh installs CPU torch 2.13.0 first (a GPU user's build is kept).
# Run after changing a dependency in pyproject.toml; setup.sh installs exactly this set.
set -euo pipefail
cd "$(dirname "$0")/.."
. .venv/bin/activate
command -v uv >/dev/null || python -m pip install -q uv
override=$(mktemp)
trap 'rm -f "$override"' EXIT
echo "torch==2.13.0" >"$override"  # resolve torch's own dependencies against the version setup.sh installs
links=()
[ -d /opt/wheels ] && links=(--find-links /opt/wheels)  # where this machine keeps the CPU torch wheel
uv pip compile pyproject.toml --extra test --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
  "${links[@]}" --override "$override" --no-emit-package torch --no-header \
  --custom-compile-command "bash scripts/lock.sh" -o requirements/lock.txt.new -q
{ echo "# The locked set of aar[test] (Linux x86-64, Python 3.11), made by: bash scripts/lock.sh"
  echo "# torch==2.13.0 (CPU build) is installed before it by scripts/setup.sh."
  cat requirements/lock.txt.new; } >requirements/lock.txt
rm requirements/lock.txt.new
