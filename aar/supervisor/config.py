"""`run.toml`: what `aar run` starts, validated by pydantic.

```toml
run_dir = "runs/r1"
task = "math"
size = "tiny"                 # tasks_dir defaults to the cache for this size
wall_time = 3600              # seconds; agents are stopped after it
budget_per_agent = 60         # evaluations per agent (also the server's per-task budget for the run)
sandbox = "bwrap"             # bwrap | docker | none
compute_slots = 2             # default: cores // threads_per_job
threads_per_job = 1
verify_grace = 600            # after the agents finish, wait up to this long for the overseer to finish
executor = "local"            # local (processes here) | ray (agents, idea runs, re-checks on a Ray cluster)

[ray]                         # executor = "ray": omit `address` to start a one-machine cluster
address = "10.0.0.5:6379"

[server]                      # omit `url` to start `aar serve` in the run dir
port = 0

[agents]                      # or [[agents]] groups, each with its own kind/count
count = 4
kind = "searcher"             # searcher | llm
directions = ["confidence-filtering", "auxiliary-confidence"]   # default: the built-in list in order
searcher = { seeds = [0, 1], modes = ["probe"] }
llm = { provider = "anthropic", model = "claude-sonnet-4-5" }    # LLMAgentConfig (aar.agents.llm.config)

[[extra_processes]]           # more workers started and stopped with the run (e.g. the overseer)
name = "overseer"
command = ["{python}", "-m", "aar.overseer", "--run-dir", "{run_dir}"]

[mlflow]                      # optional (pip install 'aar[mlflow]'): submissions and verifications to MLflow
tracking_uri = "sqlite:///runs/mlflow.db"
experiment = "aar"
```
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from aar.agents.llm.config import LLMAgentConfig
from aar.agents.searcher.directions import Direction, directions_from


class ServerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = None  # an already running server; else one is started in the run dir
    admin_token: str | None = None  # for a given url: the admin token (else $AAR_ADMIN_TOKEN)
    host: str = "127.0.0.1"
    port: int = Field(0, ge=0, le=65535)  # 0: any free port
    db_url: str | None = None
    start_timeout: float = Field(60.0, gt=0)


class SearcherOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seeds: list[int] = Field(default_factory=lambda: [0], min_length=1)
    modes: list[Literal["probe", "finetune"]] | None = None
    max_ideas: int | None = Field(None, ge=1)
    run_timeout: float = Field(1800.0, gt=0)
    import_margin: float = Field(0.05, ge=0)  # build on colleagues' results within this PGR of our best


class AgentGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(1, ge=1, le=1000)
    kind: Literal["searcher", "llm"] = "searcher"
    prefix: str | None = None  # names: <prefix>-1, ... (default the kind)
    names: list[str] | None = None
    directions: list[str] | None = None  # cycled over the group; default the run's directions in order
    task: str | None = None  # default the run's task
    searcher: SearcherOptions = Field(default_factory=SearcherOptions)
    llm: LLMAgentConfig | None = None  # kind "llm": the agents' config (unknown keys are errors)

    @model_validator(mode="after")
    def _names(self) -> AgentGroup:
        if self.names is not None and len(self.names) != self.count:
            raise ValueError(f"agents: {len(self.names)} names for count = {self.count}")
        if self.llm is not None and self.kind != "llm":
            raise ValueError(f"an `llm` table in a group of kind {self.kind!r} (set kind = \"llm\")")
        return self

    def llm_config(self) -> LLMAgentConfig:
        return self.llm or LLMAgentConfig()


class ExtraProcess(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    command: list[str] = Field(min_length=1)  # {python}, {run_dir}, {url}, {uds}, {task} are filled in
    env: dict[str, str] = Field(default_factory=dict)
    restart: bool = True
    admin: bool = True  # gets the admin token as $AAR_ADMIN_TOKEN


class MlflowConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tracking_uri: str = Field(min_length=1)  # e.g. sqlite:///mlflow.db, http://host:5000, file:///abs/mlruns
    experiment: str = Field("aar", min_length=1)
    run_name: str | None = None  # the MLflow parent run's name (default: the run dir's name)
    interval: float = Field(10.0, gt=0)  # seconds between syncs while the run goes on
class RayOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str | None = None  # a running cluster (`ray start --head` prints it); None: start one here
    sync_interval: float = Field(5.0, gt=0)  # seconds between pulls of each agent's folder to the head
    gpus_per_run: float = Field(0.0, ge=0)  # GPUs held by each idea run / re-run


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_dir: Path
    task: str
    size: Literal["tiny", "small", "full"] = "full"
    tasks_dir: Path | None = None
    server: ServerConfig = Field(default_factory=ServerConfig)
    agents: list[AgentGroup] = Field(default_factory=lambda: [AgentGroup()], min_length=1)
    directions: list[dict[str, Any]] | None = None  # override of the built-in directions
    wall_time: float | None = Field(None, gt=0)  # seconds
    budget_per_agent: int | None = Field(None, ge=1)  # evaluations
    sandbox: Literal["bwrap", "docker", "none"] = "bwrap"
    compute_slots: int | None = Field(None, ge=1)
    threads_per_job: int = Field(1, ge=1)
    gpus: list[str] | None = None  # GPU ids: one compute slot per GPU (CUDA_VISIBLE_DEVICES per job)
    max_restarts: int = Field(3, ge=0)
    stop_grace: float = Field(10.0, ge=0)  # seconds between SIGTERM and SIGKILL
    refresh: float = Field(1.0, gt=0)  # live table / limits check period
    extra_processes: list[ExtraProcess] = Field(default_factory=list)
    verify_grace: float = Field(0.0, ge=0)  # seconds to let the overseer drain its queue after the agents
    mlflow: MlflowConfig | None = None
    executor: Literal["local", "ray"] = "local"
    ray: RayOptions = Field(default_factory=RayOptions)

    @field_validator("agents", mode="before")
    @classmethod
    def _one_group(cls, v: Any) -> Any:
        return [v] if isinstance(v, dict) else v

    @model_validator(mode="after")
    def _check(self) -> RunConfig:
        known = {d.name for d in self.direction_list()}
        for g in self.agents:
            for d in g.directions or []:
                if d not in known:
                    raise ValueError(f"unknown direction {d!r}; known: {sorted(known)}")
        names = [n for n, _ in self.agent_specs()]
        if len(set(names)) != len(names):
            raise ValueError(f"agent names are not unique: {names}")
        return self

    def direction_list(self) -> list[Direction]:
        return directions_from(self.directions)

    def slots(self) -> int:
        if self.gpus:
            return len(self.gpus)
        return self.compute_slots or max(1, (os.cpu_count() or 1) // self.threads_per_job)

    def resolved_tasks_dir(self) -> Path:
        from aar.paths import tasks_dir

        return (self.tasks_dir or tasks_dir(self.size)).expanduser().resolve()

    def agent_specs(self) -> list[tuple[str, AgentGroup]]:
        out: list[tuple[str, AgentGroup]] = []
        for g in self.agents:
            prefix = g.prefix or g.kind
            for i in range(g.count):
                out.append((g.names[i] if g.names else f"{prefix}-{i + 1}", g))
        return out

    def agent_directions(self) -> dict[str, str]:
        """Agent name -> direction: the group's list cycled, else the run's list continued over groups."""
        pool = [d.name for d in self.direction_list()]
        out: dict[str, str] = {}
        k = 0
        for g in self.agents:
            names = [n for n, grp in self.agent_specs() if grp is g]
            for i, name in enumerate(names):
                if g.directions:
                    out[name] = g.directions[i % len(g.directions)]
                else:
                    out[name] = pool[k % len(pool)]
                    k += 1
        return out


def _absolute(value: Any, cwd: Path) -> Any:
    if not isinstance(value, str):
        return value  # the model refuses it with its own message
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else (cwd / p).resolve())


def load_config(path: Path | str, cwd: Path | None = None) -> RunConfig:
    """Read and validate a run.toml. Relative paths (run_dir, tasks_dir, llm prices_file) are relative to
    the working directory (`cwd`), as on a command line, not to the file."""
    path = Path(path)
    cwd = Path.cwd() if cwd is None else Path(cwd)
    raw = tomllib.loads(path.read_text())
    for key in ("run_dir", "tasks_dir"):
        if key in raw:
            raw[key] = _absolute(raw[key], cwd)
    groups = raw.get("agents")
    for g in [groups] if isinstance(groups, dict) else groups if isinstance(groups, list) else []:
        llm = g.get("llm") if isinstance(g, dict) else None
        if isinstance(llm, dict) and "prices_file" in llm:
            llm["prices_file"] = _absolute(llm["prices_file"], cwd)
    return RunConfig.model_validate(raw)
