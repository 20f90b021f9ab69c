"""The two kinds of research sandbox, built in one place: an agent's and an overseer re-run's.

Agents (`aar.agents.research_sandbox`), the overseer (`aar.overseer.rerun`) and `aar sandbox check`
build their sandboxes with these functions, so the escape suite attacks exactly what runs.

    agent:   RUN_DIR/agents/<name>/{workspace, view/data}   workspace kept, data staged on every start
    re-run:  <work>/<key>/{workspace/idea, data}             fresh workspace with a fresh copy of the idea

Nothing a command can see names the kind of run. The data dir is copied into the sandbox (no host path in
/proc/self/mountinfo), and the workspace is its own file system (the hard quota: its mount shows no host
path either) wherever that is available (root, loop devices); elsewhere the workspace's host path shows
in mountinfo, so re-run folders are named by a keyed hash of the label (`<key>`), never by the label.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import shutil
from pathlib import Path

from aar.sandbox import Limits, Sandbox, make_sandbox, quota
from aar.sandbox.gpu import GpuProfile
from aar.sandbox.layout import TaskView, research_spec, stage_data

_KEY = secrets.token_bytes(16)  # per process: a re-run folder's name says nothing of its label


def rerun_dir(work: Path, label: str) -> Path:
    """The folder of the re-run `label` under `work`: stable within this process, not guessable."""
    return Path(work) / hmac.new(_KEY, label.encode(), hashlib.sha256).hexdigest()[:20]


def hard_quota_default(sandbox_kind: str) -> bool:
    """Research sandboxes use the hard disk quota wherever it is available (bwrap, root, loop devices)."""
    return sandbox_kind == "bwrap" and quota.available()

IDEA = "idea"  # the idea's folder inside a re-run's fresh workspace
OUT = "out"


def stage_agent_view(agent_dir: Path, public: Path, sandbox_kind: str) -> TaskView:
    """Stage the task's public data and its feature cache for one agent (refreshed on every start)."""
    from aar.sandbox.view_cache import fill_view_cache

    view = stage_data(public, Path(agent_dir) / "view" / "data", neutral_paths=sandbox_kind != "none")
    fill_view_cache(view)
    return view


def open_agent_sandbox(sandbox_kind: str, agent_dir: Path, public: Path, *, socket: Path | None,
                       limits: Limits | None = None, hard_disk_quota: bool | None = None,
                       gpu: GpuProfile | bool | None = None) -> tuple[Sandbox, TaskView]:
    """The agent's sandbox (`socket=None`: no server inside, as for the searcher, whose commands only run
    ideas; `gpu=None`: the GPU profile of the run's device list, see `research_spec`). A hard-quota
    workspace volume is unmounted, its files copied back, when the sandbox is closed or collected or the
    process exits normally; `Supervisor.stop()` releases those of killed processes."""
    agent_dir = Path(agent_dir)
    view = stage_agent_view(agent_dir, public, sandbox_kind)
    spec = research_spec(agent_dir / "workspace", view, socket=socket, limits=limits, gpu=gpu)
    hard = hard_quota_default(sandbox_kind) if hard_disk_quota is None else hard_disk_quota
    box = make_sandbox(sandbox_kind, spec, allow_unsafe=sandbox_kind == "none", hard_disk_quota=hard)
    return box, view


def _bytecode(_folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n == "__pycache__" or n.lower().endswith((".pyc", ".pyo"))}


def stage_rerun(run_dir: Path, idea_dir: Path, data_dir: Path, sandbox_kind: str, *,
                weak: dict[int, list[float]] | None = None,
                models: dict[str, str] | None = None) -> tuple[Path, TaskView]:
    """A fresh `run_dir` holding a workspace with a copy of the idea and a staged copy of the data
    (`weak` / `models` replace the weak labels / model dirs behind the same neutral paths)."""
    run_dir = Path(run_dir)
    if run_dir.exists():
        shutil.rmtree(run_dir)
    workspace = run_dir / "workspace"
    # bytecode stays out (a snapshot from before the server refused it may hold some): a re-run runs the
    # source its run key was computed from (`aar.methods.run_key`)
    shutil.copytree(Path(idea_dir), workspace / IDEA, symlinks=False, ignore=_bytecode)
    view = stage_data(Path(data_dir), run_dir / "data", weak=weak, models=models,
                      neutral_paths=sandbox_kind != "none")
    return workspace, view


def open_rerun_sandbox(sandbox_kind: str, workspace: Path, view: TaskView, *, limits: Limits | None = None,
                       hard_disk_quota: bool | None = None, gpu: GpuProfile | bool | None = None) -> Sandbox:
    """The sandbox of one re-run (no server socket: a re-run only computes predictions). Close it after
    reading the outputs (a hard-quota workspace is unmounted then)."""
    spec = research_spec(workspace, view, limits=limits or Limits(), gpu=gpu)
    hard = hard_quota_default(sandbox_kind) if hard_disk_quota is None else hard_disk_quota
    return make_sandbox(sandbox_kind, spec, allow_unsafe=sandbox_kind == "none",  # chosen explicitly
                        hard_disk_quota=hard)
