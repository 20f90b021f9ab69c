"""The import graph is part of the trust story: three layers, visible as packages.

(1) `aarlab` (the research library and the client) is the only code a sandbox sees and imports nothing
from `aar`; (2) `aar.tasks` (generation keyed by the task secret, private labels, grading) is trusted;
(3) the control plane (server, overseer, supervisor, ...) — and the server never loads agent, sandbox,
supervisor or overseer code.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _loaded_after(module: str) -> set[str]:
    code = (
        f"import json, sys, {module}; "
        "print(json.dumps([m for m in sys.modules if m.split('.')[0] in ('aar', 'aarlab')]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def test_server_loads_no_agent_sandbox_or_supervisor_code() -> None:
    loaded = _loaded_after("aar.server.app")
    bad = {m for m in loaded if m.startswith("aar.") and m.split(".")[1] in
           {"agents", "sandbox", "supervisor", "overseer"}}
    assert "aar.server.app" in loaded
    assert not bad, bad


def test_sandbox_side_code_loads_nothing_of_aar() -> None:
    for module in ("aarlab.w2s.run_idea", "aarlab.w2s.recipe", "aarlab.client", "aarlab.w2s.training"):
        loaded = _loaded_after(module)
        assert module in loaded
        assert not {m for m in loaded if m.split(".")[0] == "aar"}, module


def test_no_aarlab_source_file_imports_aar() -> None:
    """Statically, lazy imports included: not one `import aar...` anywhere in the library."""
    offenders = {}
    for path in sorted((REPO / "aarlab").rglob("*.py")):
        bad = {m for m in _imports(path) if m == "aar" or m.startswith("aar.")}
        if bad:
            offenders[str(path.relative_to(REPO))] = sorted(bad)
    assert not offenders, offenders


def test_task_code_is_not_reachable_from_the_library() -> None:
    """No generator, secret or private reader lives under `aarlab` (the mounted package)."""
    names = {p.stem for p in (REPO / "aarlab").rglob("*.py")}
    assert not names & {"private", "secret", "build", "math_task", "code_task", "world_task", "grade"}


def test_no_server_source_file_imports_control_plane_workers() -> None:
    """Statically, lazy imports included: the server reads what agents, the overseer and the executor
    leave in the run folder through neutral modules (e.g. `aar.cluster.costs`), never their code."""
    banned = ("aar.agents", "aar.sandbox", "aar.supervisor", "aar.overseer", "aar.report")
    offenders = {}
    for path in sorted((REPO / "aar" / "server").rglob("*.py")):
        bad = {m for m in _imports(path) if m.startswith(banned)}
        if bad:
            offenders[str(path.relative_to(REPO))] = sorted(bad)
    assert not offenders, offenders
