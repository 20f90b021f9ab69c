"""Idea runs as Ray tasks: the idea folder travels as a blob, the data as a bundle (fetched once per node),
and the run happens in a fresh research sandbox on whichever node Ray's scheduler placed it, with the
same staged view (paths, names, metadata) as a local run. Searcher idea runs and overseer re-runs use it.

    runs = RayRuns(address, run_key, sandbox="bwrap", threads=1)
    res = runs.run(idea_dir, bundle, seed=0, label="alice/idea-001/seed0", out=dest)   # dest gets out/
"""

from __future__ import annotations

import io
import os
import shlex
import shutil
import tarfile
import time
from pathlib import Path
from typing import Any

from aar.cluster.bundles import pack_dir, unpack

IDEA, OUT = "idea", "out"


def run_on_node(
    idea: bytes,
    bundle: dict,
    run_key: str,
    seed: int,
    label: str,
    sandbox: str,
    threads: int,
    timeout: float,
    weak: dict[int, list[float]] | None = None,
    python: str | None = None,
) -> dict[str, Any]:
    """Body of the Ray task (runs on the node Ray chose): stage, run in a sandbox, return the outputs."""
    import sys

    from aar.cluster.node import node_cache
    from aar.cluster.store import node_public
    from aar.cluster.workdirs import task_work_dir
    from aar.sandbox.layout import DATA, WORKSPACE
    from aar.sandbox.research import open_rerun_sandbox, rerun_dir, stage_rerun
    from aar.sandbox.view_cache import fill_view_cache

    started = time.time()
    with task_work_dir(node_cache() / "work") as work:
        unpack(idea, work / "idea")
        public = node_public(bundle, run_key)
        # the same staging and sandbox as a local re-run (`aar.sandbox.research`)
        workspace, view = stage_rerun(rerun_dir(work, label), work / "idea", public, sandbox, weak=weak)
        fill_view_cache(view)
        box = open_rerun_sandbox(sandbox, workspace, view)
        ws = box.inside(WORKSPACE)
        cmd = shlex.join(
            str(c)
            for c in [python or sys.executable, "-m", "aarlab.w2s.run_idea", ws / IDEA, "--data-dir",
                      box.inside(DATA), "--out", ws / OUT, "--seed", seed, "--threads", threads]
        )
        env = {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads), "AAR_THREADS": str(threads)}
        if os.environ.get("CUDA_VISIBLE_DEVICES"):  # set by Ray for a task holding GPUs
            env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
        try:
            res = box.run(cmd, timeout=timeout, env=env)
        except BaseException:
            box.close()
            raise
        with box:  # a hard-quota workspace is unmounted once its outputs are read
            return _record(label, res, started, workspace / OUT)


def _record(label: str, res: Any, started: float, out: Path) -> dict[str, Any]:
    from aar.cluster.node import node_name

    return {
        "label": label,
        "node": node_name(),
        "returncode": res.returncode,
        "timed_out": res.timed_out,
        "killed_reason": res.killed_reason,
        "stdout": res.stdout[-4000:],
        "stderr": res.stderr[-4000:],
        "seconds": res.seconds,
        "cpu_seconds": res.cpu_seconds,
        "started": started,
        "out": pack_dir(out) if out.is_dir() else None,
    }


class RayRuns:
    """Driver side: submit idea runs as Ray tasks holding `threads` CPUs (and `gpus` GPUs) each."""

    def __init__(
        self,
        address: str | None,
        run_key: str,
        *,
        sandbox: str,
        threads: int = 1,
        gpus: float = 0.0,
        timeout: float = 1800.0,
        node_id: str | None = None,
    ):
        from aar.cluster.store import connect

        connect(address)
        self.run_key, self.sandbox, self.threads, self.gpus, self.timeout = (
            run_key,
            sandbox,
            threads,
            gpus,
            timeout,
        )
        self.node_id = node_id  # runs go to this node (an agent's own); None: spread by Ray
        self._packer: Any = None

    def bundle(self, public: Path, models: dict[str, str] | None = None) -> dict:
        """Publish a (head-local) public dir and its models to the run's store; returns its bundle."""
        from aar.cluster.store import get_store, packer

        if self._packer is None:
            self._packer = packer(get_store(self.run_key))
        return self._packer.bundle(public, models)

    def run(
        self,
        idea_dir: Path,
        bundle: dict,
        seed: int,
        label: str,
        *,
        out: Path,
        weak: dict[int, list[float]] | None = None,
        timeout: float | None = None,
        node_id: str | None = None,
    ) -> dict[str, Any]:
        """Run and wait; the run's out/ folder is unpacked into `out`. Returns the task's record (no blob)
        plus `waited` (submit to start, seconds) and `gpu_seconds` (wall seconds x GPUs held).

        With the agent's own node (given at construction) its runs wait for CPUs there and go elsewhere
        only if the node is gone. A re-check names the claiming agent's node (`node_id`): it runs there
        when the node has the CPUs free, else wherever Ray has room at once, so that an agent keeping its
        own node busy cannot hold up its verification (or anyone's)."""
        import ray
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        where: Any = "SPREAD"
        if node_id:
            where = NodeAffinitySchedulingStrategy(node_id, soft=True, _spill_on_unavailable=True)
        elif self.node_id:
            where = NodeAffinitySchedulingStrategy(self.node_id, soft=True)
        task = ray.remote(run_on_node).options(
            num_cpus=self.threads, num_gpus=self.gpus, scheduling_strategy=where, max_retries=0
        )
        t0 = time.time()
        ref = task.remote(
            pack_dir(Path(idea_dir)),
            bundle,
            self.run_key,
            seed,
            label,
            self.sandbox,
            self.threads,
            timeout or self.timeout,
            weak,
        )
        res = ray.get(ref)
        blob = res.pop("out")
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        if blob:
            unpack(blob, out)
        res["waited"] = max(0.0, res["started"] - t0)
        res["gpu_seconds"] = res["seconds"] * self.gpus
        res["threads"] = self.threads
        return res


def untar(data: bytes) -> dict[str, bytes]:
    """Files of a blob (tests and tools)."""
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
