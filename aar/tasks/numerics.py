"""How the zoo is computed, fixed so that every machine builds the same weights.

CPU float results depend on three things besides the recipe: the number of threads (it changes the
order of parallel reductions: a full-size model trained with 1 and with 2 threads differs in every
weight), and the vector instructions that PyTorch's own kernels and MKL pick for the processor (AVX-512
and AVX2 paths round differently; even the tiny zoo differs). So a zoo model is always pretrained in its
own process with `ZOO_THREADS` threads, PyTorch's kernels held to AVX2 and MKL to its AVX2 code path.
x86-64 machines with AVX2 then train bit-identical weights with the locked torch within one CPU vendor
(an Intel Xeon and an AMD EPYC differ even so: tests/w2s/test_zoo_determinism.py records both);
other architectures (arm64) train with their own kernels and are not bit-identical (see README).

The steps after pretraining (weak artifacts, strong-ceiling baselines) run with `ZOO_THREADS` threads
and the machine's own kernels, like every experiment that is later compared with them.

How OpenMP threads wait for each other changes no result, only the speed, and which way is fast depends
on the machine's load (`benchmarks/zoo_step.py`, math strong model, 2-core VM, ms/step):

    OMP_WAIT_POLICY     idle machine   2 busy processes beside it   at nice 10 beside them
    ACTIVE (spin)            141               1231                  over 7000 (*)
    unset (libgomp)          169                596                  over 7000 (*)
    PASSIVE (sleep)          433                373                        2425

(*) 15 steps had not run in 300 s. So a build stage that has the cores to itself spins (`wait_policy`),
and one that shares them sleeps.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

ZOO_THREADS = 2  # threads per zoo model / task pipeline, on every machine (the parallelism is in processes)

# read by PyTorch / MKL / oneDNN when they load, so they are set in the environment of a fresh process
PINNED_KERNELS_X86 = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}


def thread_env(threads: int = ZOO_THREADS, wait: str = "PASSIVE") -> dict[str, str]:
    """Thread settings for a build process; `wait`: how its OpenMP threads wait (same results either way)."""
    t = str(threads)
    return {"OMP_NUM_THREADS": t, "MKL_NUM_THREADS": t, "OMP_WAIT_POLICY": wait}


def pinned_env(wait: str = "PASSIVE") -> dict[str, str]:
    """Environment of a zoo pretraining process: fixed threads and, on x86-64, fixed kernels."""
    env = thread_env(wait=wait)
    if platform.machine().lower() in ("x86_64", "amd64"):
        env.update(PINNED_KERNELS_X86)
    return env


CGROUP = Path("/sys/fs/cgroup")  # a container's CPU limit and use (cgroup v2, else v1)


def _cgroup_quota() -> float | None:
    """The cores this process's cgroup may use (None: no limit, or no cgroup files to read)."""
    try:
        quota, period = (CGROUP / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota_us = int((CGROUP / "cpu" / "cpu.cfs_quota_us").read_text())
        period_us = int((CGROUP / "cpu" / "cpu.cfs_period_us").read_text())
        return None if quota_us <= 0 else quota_us / period_us
    except (OSError, ValueError):
        return None


def _cgroup_cpu_seconds() -> float | None:
    """CPU seconds the cgroup has used so far (None: unknown)."""
    try:
        for line in (CGROUP / "cpu.stat").read_text().splitlines():
            if line.startswith("usage_usec "):
                return int(line.split()[1]) / 1e6
    except (OSError, ValueError):
        pass
    try:
        return int((CGROUP / "cpuacct" / "cpuacct.usage").read_text()) / 1e9
    except (OSError, ValueError):
        return None


def idle_cores(interval: float = 0.5) -> float:
    """How many cores this process could have over the last `interval` seconds were idle (now, not the
    load average's last minute): idle CPUs among those it may run on, and no more than its container's
    CPU limit leaves unused (inside a container the CPU counters are the host's)."""
    import psutil

    quota = _cgroup_quota()
    used0, t0 = (_cgroup_cpu_seconds(), time.monotonic()) if quota is not None else (None, 0.0)
    busy = psutil.cpu_percent(interval=interval, percpu=True)
    mine = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(len(busy))
    idle = sum(100.0 - busy[i] for i in mine if i < len(busy)) / 100.0
    if quota is not None:
        used1 = _cgroup_cpu_seconds()
        used = used1 - used0 if used0 is not None and used1 is not None else 0.0
        idle = min(idle, quota - used / max(time.monotonic() - t0, 1e-3))
    return max(0.0, idle)


def wait_policy(threads: int = ZOO_THREADS) -> str:
    """ACTIVE (spinning) when `threads` cores are idle now, else PASSIVE: spinning threads are 3x faster on
    cores of their own and many times slower on shared ones (see the table above)."""
    return "ACTIVE" if idle_cores() >= threads - 0.25 else "PASSIVE"


def numerics_tag() -> dict[str, object]:
    """What the running process computes with, recorded in each model's aar_zoo.json."""
    import torch

    return {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.machine(),
        "kernels": {k: os.environ.get(k) for k in PINNED_KERNELS_X86},
    }
