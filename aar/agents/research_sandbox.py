"""An agent's research sandbox: its task's public data staged into the agent's folder and mounted at the
neutral paths of `aar.sandbox.layout`, the workspace at /workspace, the server socket at /aar/server.sock."""

from __future__ import annotations

from pathlib import Path

from aar.sandbox import Limits, Sandbox, make_sandbox
from aar.sandbox.layout import TaskView, research_spec, stage_data
from aar.sandbox.view_cache import fill_view_cache


def stage_agent_view(agent_dir: Path, public: Path, sandbox_kind: str) -> TaskView:
    """Stage the task's public data and its feature cache for one agent (refreshed on every start)."""
    view = stage_data(public, Path(agent_dir) / "view" / "data", neutral_paths=sandbox_kind != "none")
    fill_view_cache(view)
    return view


def open_agent_sandbox(sandbox_kind: str, agent_dir: Path, public: Path, *, socket: Path | None,
                       limits: Limits | None = None) -> tuple[Sandbox, TaskView]:
    agent_dir = Path(agent_dir)
    view = stage_agent_view(agent_dir, public, sandbox_kind)
    spec = research_spec(agent_dir / "workspace", view, socket=socket, limits=limits)
    return make_sandbox(sandbox_kind, spec, allow_unsafe=sandbox_kind == "none"), view
