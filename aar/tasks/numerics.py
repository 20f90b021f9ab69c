"""How the zoo is computed, fixed so that every machine builds the same weights.

CPU float results depend on three things besides the recipe: the number of threads (it changes the
order of parallel reductions: a full-size model trained with 1 and with 2 threads differs in every
weight), and the vector instructions that PyTorch's own kernels and MKL pick for the processor (AVX-512
and AVX2 paths round differently; even the tiny zoo differs). So a zoo model is always pretrained in its
own process with `ZOO_THREADS` threads, PyTorch's kernels held to AVX2 and MKL to its AVX2 code path.
Every x86-64 machine with AVX2 (all since 2013) then trains bit-identical weights with the locked torch;
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


def idle_cores(interval: float = 0.5) -> float:
    """How many cores were idle over the last `interval` seconds (now, not the load average's last minute)."""
    import psutil

    return sum(100.0 - p for p in psutil.cpu_percent(interval=interval, percpu=True)) / 100.0


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
