#!/usr/bin/env bash
# One-time setup on a fresh Debian/Ubuntu machine: system packages, a venv, CPU torch, the locked set
# of dependencies (AAR_UNLOCKED=1: the newest pyproject.toml allows), aar.
set -euo pipefail
cd "$(dirname "$0")/.."
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  need=()
  command -v bwrap >/dev/null || need+=(bubblewrap)
  command -v chromium >/dev/null || need+=(chromium)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi
[ -d .venv ] || python3 -m venv .venv
. .venv/bin/activate
python -m pip install -q --upgrade pip
# Install CPU torch first: a bare `torch` requirement would pull a multi-GB CUDA build.
python -c "import torch" 2>/dev/null || python -m pip install -q torch==2.13.0
if [ "${AAR_UNLOCKED:-0}" = 1 ]; then
  # the newest versions pyproject.toml allows, instead of the locked set
  python -m pip install -q -e ".[test]"
else
  # exactly the locked set (requirements/lock.txt, made by scripts/lock.sh), then aar itself
  python -m pip install -q --no-deps -r requirements/lock.txt
  python -m pip install -q --no-deps -e .
  python -m pip check
fi
# bytecode for aar's own modules, so `aar --help` does not compile them at each start
python -m compileall -q aar aarlab

# --- MCP Inspector CLI, driven by the MCP seat tests (tests/agents/test_mcp_inspector.py) ---
# npm registry only; the versions are pinned by tests/mcp_inspector/package-lock.json (node >= 20).
if ! command -v npm >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -x tests/mcp_inspector/node_modules/.bin/mcp-inspector-cli ]; then
  npm ci --prefix tests/mcp_inspector --no-audit --no-fund --loglevel=error
fi
# --- end MCP Inspector CLI ---
