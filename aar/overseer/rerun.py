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
from typing import Any

from aar.compute import ComputeQueue
from aar.sandbox.research import IDEA, OUT


class RerunError(RuntimeError):
    def __init__(self, message: str, seconds: float | None = None) -> None:
        super().__init__(message)
        self.seconds = seconds  # how long the failed run ran (None: it never started)


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
    remote: Any = None  # an `aar.cluster.experiment.RayRuns`: every re-run is a Ray task on some node

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
        node: str | None = None,
    ) -> dict:
        """Predictions of the run (`predictions.json`, plus `manifest` when the runner wrote one);
        raises RerunError when the idea fails. `weak` / `models` replace the weak labels / model dirs
        behind the same neutral paths (counterfactual runs). `node`: the Ray node to run on (the
        claiming agent's), under the Ray executor."""
        from aar.sandbox.layout import DATA, WORKSPACE
        from aar.sandbox.research import open_rerun_sandbox, rerun_dir, stage_rerun
        from aar.sandbox.view_cache import fill_view_cache

        if self.remote is not None:
            return self._run_remote(Path(idea_dir), Path(data_dir), seed, label, weak, models, node)
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
            from aar.cluster.node import node_name

            self._told(label, res.returncode, res.seconds, slot.threads, res.timed_out, node=node_name(),
                       cpu_seconds=res.cpu_seconds, waited=slot.waited,
                       gpu_seconds=res.seconds if slot.device is not None else 0.0)
            text = res.stderr or res.stdout or ""
            out = self._outputs(workspace, label, res.returncode, res.timed_out, text, res.seconds)
            return out | {"seconds": res.seconds}

    def _told(self, label: str, returncode: int, seconds: float, threads: int, timed_out: bool,
              **extra: Any) -> None:
        if self.on_run is not None:
            self.on_run({"label": label, "returncode": returncode, "seconds": seconds, "threads": threads,
                         "timed_out": timed_out, **extra})

    def _run_remote(self, idea_dir: Path, data_dir: Path, seed: int, label: str,
                    weak: dict[int, list[float]] | None, models: dict[str, str] | None,
                    node: str | None = None) -> dict:
        """The same run as a Ray task: the held-out public dir (and any replaced model) is published to the
        run's store; the node stages the same view in a fresh sandbox and returns out/."""
        import tempfile

        bundle = self.remote.bundle(data_dir, models)
        with tempfile.TemporaryDirectory(prefix="aar-rerun-") as tmp:
            workspace = Path(tmp)
            res = self.remote.run(idea_dir, bundle, seed, f"{self.owner}/{label}", out=workspace / OUT,
                                  weak=weak, timeout=self.timeout, node_id=node)
            self._told(label, res["returncode"], res["seconds"], res["threads"], res["timed_out"],
                       node=res["node"], cpu_seconds=res["cpu_seconds"], waited=res["waited"],
                       gpu_seconds=res["gpu_seconds"])
            text = res["stderr"] or res["stdout"]
            out = self._outputs(workspace, label, res["returncode"], res["timed_out"], text, res["seconds"])
            return out | {"seconds": res["seconds"]}

    def _outputs(self, workspace: Path, label: str, returncode: int, timed_out: bool, text: str,
                 seconds: float) -> dict:
        pred = output_file(workspace, "predictions.json")
        if returncode != 0 or pred is None:
            why = " (timed out)" if timed_out else ""
            raise RerunError(f"{label}: exit {returncode}{why}: {text[-800:]}", seconds=seconds)
        # what the idea left in out/ is its own (it may rewrite a file after run_idea checked it): a file
        # that does not parse is a failed run, recorded as one, never an overseer error that skips the check
        try:
            out = json.loads(pred)
            if not isinstance(out, dict) or not isinstance(out.get("test"), list):
                raise ValueError("no 'test' list")
        except ValueError as e:
            raise RerunError(f"{label}: unreadable predictions.json: {e}", seconds=seconds) from e
        manifest = output_file(workspace, "manifest.json")
        if manifest is not None:
            try:
                out["manifest"] = json.loads(manifest)
            except ValueError:
                out["manifest"] = None  # the server takes the predictions without it
        return out


def output_file(workspace: Path, name: str) -> bytes | None:
    """workspace/out/<name> if it is a regular file there. The idea wrote out/ inside its sandbox: a link
    there (out/ itself, or the file) names a path of this host, e.g. a private labels.json of the very shape
    of predictions.json, so links are never followed (O_NOFOLLOW at each step below the trusted workspace)."""
    import os

    from aar.cluster.bundles import read_regular

    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        top = os.open(workspace, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    try:
        out = os.open(OUT, flags | os.O_DIRECTORY, dir_fd=top)
    except OSError:  # missing, not a folder, or a link
        return None
    finally:
        os.close(top)
    try:
        return read_regular(name, out)
    finally:
        os.close(out)
