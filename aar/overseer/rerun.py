"""Run an idea folder on a data dir and seed in a fresh sandbox, through the compute queue."""

from __future__ import annotations

import json
import shlex
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aar.compute import ComputeQueue


class RerunError(RuntimeError):
    pass


@dataclass
class Runner:
    """How the overseer runs ideas: sandbox kind, queue, read-only paths (tasks, zoo), limits."""

    queue: ComputeQueue
    sandbox: str = "bwrap"  # "bwrap" | "docker" | "none"
    ro_binds: list[Path] = field(default_factory=list)
    timeout: float = 1800.0
    owner: str = "overseer"
    python: str = sys.executable
    on_run: Callable[[dict], None] | None = None  # told of every run (label, seconds, ...) for accounting

    def run(self, idea_dir: Path, data_dir: Path, seed: int, work: Path, label: str) -> dict:
        """Returns predictions.json of the run; raises RerunError when the idea fails."""
        from aar.sandbox import Limits, SandboxSpec, make_sandbox

        idea_dir, data_dir, work = Path(idea_dir).resolve(), Path(data_dir).resolve(), Path(work).resolve()
        out = work / f"out-{label}"
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        meta = json.loads((Path(data_dir) / "meta.json").read_text())
        binds = list(dict.fromkeys([*self.ro_binds, *_model_dirs(meta)]))
        with self.queue.slot(self.owner, label) as slot:
            spec = SandboxSpec(workspace=work, ro_binds=binds, socket_path=None, limits=Limits())
            box = make_sandbox(self.sandbox, spec, allow_unsafe=self.sandbox == "none")  # chosen explicitly
            cmd = " ".join(
                shlex.quote(str(c))
                for c in [
                    self.python,
                    "-m",
                    "aarlab.w2s.run_idea",
                    idea_dir,
                    "--data-dir",
                    data_dir,
                    "--out",
                    out,
                    "--seed",
                    seed,
                    "--threads",
                    slot.threads,
                ]
            )
            res = box.run(cmd, timeout=self.timeout, env=dict(slot.env))
        if self.on_run is not None:
            self.on_run(
                {
                    "label": label,
                    "returncode": res.returncode,
                    "seconds": res.seconds,
                    "threads": slot.threads,
                    "timed_out": res.timed_out,
                }
            )
        pred = out / "predictions.json"
        if res.returncode != 0 or not pred.is_file():
            tail = (res.stderr or res.stdout or "")[-800:]
            raise RerunError(
                f"{label}: exit {res.returncode}{' (timed out)' if res.timed_out else ''}: {tail}"
            )
        return json.loads(pred.read_text())


def _model_dirs(meta: dict) -> list[Path]:
    out = []
    for p in (meta.get("models") or {}).values():
        path = Path(str(p))
        if path.is_absolute() and path.exists():
            out.append(path)
    return out
