"""Run every attempt against the sandboxes agents and the overseer really use, and judge each.

The sandboxes are built by `aar.sandbox.research`, as agents and the overseer build theirs, on a decoy
run (`context.py`), with small limits (`SUITE_LIMITS`):
- `alpha`: an LLM agent's sandbox (its task's staged data, the server socket, its token in every
  command's environment): every single-sandbox attempt runs here;
- `gamma`: the searcher's (no server socket), where ideas run, and four overseer re-runs of one idea
  (main data, held-out, shuffled weak labels, knowledge-removed strong model): the `tell_recheck` attempt
  runs a probe in each and compares what it sees (`recheck.py`).
The disk quota is what agents and the overseer get by default: the hard one wherever it is available.
With `gpu=True` every sandbox has the GPU profile on (`gpu_devices`, default: one device "0").
"""

from __future__ import annotations

import json
import random
import shutil
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from aar.sandbox import Limits, Sandbox
from aar.sandbox.escape import hardening, research
from aar.sandbox.escape.attempts import Attempt, attempts
from aar.sandbox.escape.context import Decoys, EscapeContext
from aar.sandbox.escape.recheck import differences, normalize, run_probe, write_probe
from aar.sandbox.gpu import GpuProfile
from aar.sandbox.layout import WORKSPACE
from aar.sandbox.research import open_agent_sandbox, open_rerun_sandbox, rerun_dir, stage_rerun

SUITE_LIMITS = Limits(cpu_seconds=20, memory_mb=256, max_procs=64, wall_seconds=30.0, disk_mb=8, tmp_mb=4,
                      shm_mb=4)
DEFAULT_TIMEOUT = 5.0  # per attempt unless it says otherwise (the wall limit is the longer backstop)
SLOT_ENV = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "AAR_THREADS": "1"}
VARIANTS = ("main", "heldout", "shuffled_weak", "knowledge_removed")


@dataclass
class AttemptResult:
    name: str
    what: str
    blocked: bool
    detail: str
    seconds: float

    def to_dict(self) -> dict:
        return asdict(self)


def all_attempts() -> list[Attempt]:
    return attempts() + hardening.attempts() + research.attempts()


def names() -> list[str]:
    return [a.name for a in all_attempts()] + ["tell_recheck"]


def run_escape_suite(kind: str = "bwrap", base: Path | None = None, only: list[str] | None = None,
                     allow_unsafe: bool = False, gpu: bool = False, gpu_devices: tuple[str, ...] = ("0",),
                     gpu_dev_root: Path | None = None,
                     hard_disk_quota: bool | None = None) -> list[AttemptResult]:
    """`gpu`: every sandbox has the GPU profile of `gpu_devices` (host nodes under `gpu_dev_root`, default
    /dev), and commands get the first device as their slot's. `hard_disk_quota=None`: the default of agents
    and the overseer (the hard quota where available); False forces the soft quota."""
    if kind == "none" and not allow_unsafe:
        from aar.sandbox import SandboxError

        raise SandboxError("sandbox kind 'none' needs an explicit allow_unsafe=True (--unsafe-no-sandbox)")
    profile: GpuProfile | bool = False
    if gpu:
        profile = GpuProfile(tuple(gpu_devices), **({"dev_root": gpu_dev_root} if gpu_dev_root else {}))
    quota_kw = {} if hard_disk_quota is None else {"hard_disk_quota": hard_disk_quota}
    with Decoys(base) as ctx:
        ctx.shm_bytes, ctx.tmp_bytes = SUITE_LIMITS.shm_mb << 20, SUITE_LIMITS.tmp_mb << 20
        boxes: list[Sandbox] = []
        try:
            idea = ctx.root / "idea"
            write_probe(idea)
            reruns = _reruns(kind, ctx, idea, profile, boxes, quota_kw)
            # the searcher-style agent whose run of the idea the re-runs must look like (staged before the
            # attempts, which may damage the decoy task's files when nothing holds them)
            gamma, _ = open_agent_sandbox(kind, ctx.run_dir / "agents" / "gamma", ctx.public, socket=None,
                                          limits=SUITE_LIMITS, gpu=profile, **quota_kw)
            boxes.append(gamma)
            shutil.copytree(idea, gamma.spec.workspace / "idea")  # the idea it ran (the overseer copies this)
            agent, _ = open_agent_sandbox(kind, ctx.agent_dir, ctx.public, socket=ctx.socket,
                                          limits=SUITE_LIMITS, gpu=profile, **quota_kw)
            boxes.append(agent)
            ctx.ws_inside = agent.inside(WORKSPACE)
            env = {"AAR_AGENT_TOKEN": ctx.token} | ({"CUDA_VISIBLE_DEVICES": gpu_devices[0]} if gpu else {})
            out = _run_all(agent, ctx, only, env)
            if not only or "tell_recheck" in only:
                devices = gpu_devices if gpu else ()
                out.append(_tell_recheck(gamma, reruns, devices))
        finally:
            for b in boxes:
                b.close()
    return out


def _reruns(kind: str, ctx: EscapeContext, idea: Path, profile: GpuProfile | bool, boxes: list[Sandbox],
            quota_kw: dict) -> dict[str, Sandbox]:
    """The overseer's four re-runs of the probe idea, staged as the overseer stages them (they stay on the
    host while the attempts run: `write_other_workspace` goes after them)."""
    work = ctx.run_dir / "overseer" / "work"
    rng = random.Random(0)
    shuffled = {}
    for seed_file in sorted((ctx.public / "weak").glob("seed*.json")):
        doc = json.loads(seed_file.read_text())
        probs = list(doc["train_unlabel"])
        rng.shuffle(probs)
        shuffled[int(doc["seed"])] = probs
    plans = {
        "main": (ctx.public, {}),
        "heldout": (ctx.heldout_public, {}),
        "shuffled_weak": (ctx.public, {"weak": shuffled}),
        "knowledge_removed": (ctx.public, {"models": {"strong": str(ctx.models["strong_blank"])}}),
    }
    out = {}
    for variant, (data, kw) in plans.items():
        ws, view = stage_rerun(rerun_dir(work, f"{variant}-s0"), idea, data, kind, **kw)
        box = open_rerun_sandbox(kind, ws, view, limits=SUITE_LIMITS, gpu=profile, **quota_kw)
        boxes.append(box)
        ctx.rerun_workspaces.append(ws)
        out[variant] = box
    return out


def _run_all(sb: Sandbox, ctx: EscapeContext, only: list[str] | None,
             env: dict[str, str]) -> list[AttemptResult]:
    out: list[AttemptResult] = []
    for a in all_attempts():
        if only and a.name not in only:
            continue
        ctx.accepted.clear()
        if a.setup is not None:
            a.setup(ctx)
        during: list[str | None] = []
        watcher = None
        if a.during is not None:
            watcher = threading.Thread(target=_watch, args=(a.during, ctx, during), daemon=True)
            watcher.start()
        res = sb.run(a.command(ctx), timeout=a.timeout or DEFAULT_TIMEOUT, env=env)
        if watcher is not None:
            watcher.join(30)
        text = res.stdout + res.stderr
        why = None
        if ctx.leaked(text):
            why = "a secret appeared in the output"
        elif "ESCAPED" in res.stdout:
            line = next(line for line in res.stdout.splitlines() if "ESCAPED" in line)
            why = f"the attempt reported success: {line[:200]}"
        elif during and during[0]:
            why = during[0]
        elif a.judge is not None:
            why = a.judge(ctx, res)
        detail = why or _summary(res)
        out.append(AttemptResult(a.name, a.what, why is None, detail, round(res.seconds, 3)))
    return out


def _tell_recheck(agent: Sandbox, reruns: dict[str, Sandbox], devices: tuple[str, ...]) -> AttemptResult:
    t0 = time.monotonic()
    env = SLOT_ENV | ({"CUDA_VISIBLE_DEVICES": devices[0]} if devices else {})
    base = run_probe(agent, env)
    found = []
    for variant, box in reruns.items():
        other = run_probe(box, env)
        failed = [d["probe_failed"] for d in (base, other) if "probe_failed" in d]
        if failed:
            found.append(f"{variant}: the probe failed (the check proves nothing): {failed[0]}")
            continue
        diff = differences(normalize(base, variant), normalize(other, variant))
        if diff:
            found.append(f"{variant}: {len(diff)} differences, e.g. " + "; ".join(diff[:3]))
    detail = " | ".join(found) or (
        f"agent run and {len(reruns)} re-runs ({', '.join(reruns)}) look the same: env, ids, mounts, limits, "
        f"caps, trees of /aar /workspace /tmp /dev /etc (data contents left out)")
    what = ("tell an overseer re-run (main, held-out, shuffled weak labels, knowledge-removed) from the "
            "agent's own run of the same idea by anything the sandbox shows")
    return AttemptResult("tell_recheck", what, not found, detail, round(time.monotonic() - t0, 3))


def _watch(fn, ctx: EscapeContext, out: list[str | None]) -> None:  # noqa: ANN001
    out.append(fn(ctx))


def _summary(res) -> str:  # noqa: ANN001
    if res.killed_reason:
        return f"killed: {res.killed_reason}"
    tail = (res.stderr.strip() or res.stdout.strip()).splitlines()
    return f"exit {res.returncode}" + (f": {tail[-1][:160]}" if tail else "")


__all__ = ["SUITE_LIMITS", "AttemptResult", "names", "run_escape_suite"]
