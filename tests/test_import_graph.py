"""The import graph is part of the trust story: the server never loads agent or sandbox code, and
code that runs inside a sandbox never loads server internals."""

from __future__ import annotations

import json
import subprocess
import sys


def _loaded_after(module: str) -> set[str]:
    code = f"import json, sys, {module}; print(json.dumps([m for m in sys.modules if m.startswith('aar.')]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_server_loads_no_agent_sandbox_or_supervisor_code() -> None:
    loaded = _loaded_after("aar.server.app")
    bad = {m for m in loaded if m.split(".")[1] in {"agents", "sandbox", "supervisor", "overseer"}}
    assert "aar.server.app" in loaded
    assert not bad, bad


def test_sandbox_side_code_loads_no_server_internals() -> None:
    for module in ("aar.w2s.run_idea", "aar.w2s.recipe", "aar.client"):
        loaded = _loaded_after(module)
        assert module in loaded
        assert not {m for m in loaded if m.startswith("aar.server")}, module
