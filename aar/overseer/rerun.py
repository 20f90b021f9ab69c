"""Run an idea on a data dir and seed in a fresh research sandbox, through the compute queue.

Every run gets a fresh workspace holding a fresh copy of the idea, and a staged, neutral copy of the
data (`aar.sandbox.layout`): the same paths, file names and metadata keys as an agent's own runs, for
the reproduce, held-out, ablation and knowledge-removed runs alike. Nothing written by one run is seen
by another.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aar.compute import ComputeQueue
from aar.sandbox.research import IDEA, OUT


class RerunError(RuntimeError):
    pass


@dataclass
class Runner:
    """How the overseer runs ideas: sandbox kind, queue, limits."""

    queue: ComputeQueue
    sandbox: str = "bwrap"  # "bwrap" | "docker" | "none"
    timeout: float = 1800.0
    owner: str = "overseer"
    python: str = sys.executable
    on_run: Callable[[dict], None] | None = None  # told of every run (label, seconds, ...) for accounting
    view_cache: bool = True  # fill each view's /aar/cache with trusted features (agents' views have it too)

    def run(
        self,
        idea_dir: Path,
        data_dir: Path,
        seed: int,
        work: Path,
        label: str,
        *,
        weak: dict[int, list[float]] | None = None,
        models: dict[str, str] | None = None,
    ) -> dict:
        """Predictions of the run (`predictions.json`, plus `manifest` when the runner wrote one);
        raises RerunError when the idea fails. `weak` / `models` replace the weak labels / model dirs
        behind the same neutral paths (counterfactual runs)."""
        from aar.sandbox.layout import DATA, WORKSPACE
        from aar.sandbox.research import open_rerun_sandbox, rerun_dir, stage_rerun
        from aar.sandbox.view_cache import fill_view_cache

        # the folder is named by a keyed hash of the label: its path must not tell the idea what run it is
        workspace, view = stage_rerun(rerun_dir(Path(work).resolve(), label), Path(idea_dir), Path(data_dir),
                                      self.sandbox, weak=weak, models=models)
        with self.queue.slot(self.owner, label) as slot:
            if self.view_cache:
                fill_view_cache(view)
            box = open_rerun_sandbox(self.sandbox, workspace, view)
            ws = box.inside(WORKSPACE)
            cmd = " ".join(shlex.quote(str(c)) for c in [
                self.python, "-m", "aarlab.w2s.run_idea", ws / IDEA, "--data-dir", box.inside(DATA),
                "--out", ws / OUT, "--seed", seed, "--threads", slot.threads,
            ])
            try:
                res = box.run(cmd, timeout=self.timeout, env=dict(slot.env))
            except BaseException:
                box.close()
                raise
        with box:  # a hard-quota workspace is unmounted once its outputs are read
            if self.on_run is not None:
                self.on_run({"label": label, "returncode": res.returncode, "seconds": res.seconds,
                             "threads": slot.threads, "timed_out": res.timed_out})
            pred = workspace / OUT / "predictions.json"
            if res.returncode != 0 or not pred.is_file():
                tail = (res.stderr or res.stdout or "")[-800:]
                why = " (timed out)" if res.timed_out else ""
                raise RerunError(f"{label}: exit {res.returncode}{why}: {tail}")
            out = json.loads(pred.read_text())
            manifest = workspace / OUT / "manifest.json"
            if manifest.is_file():
                out["manifest"] = json.loads(manifest.read_text())
            return out
