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
"""

from __future__ import annotations

import os
import platform

ZOO_THREADS = 2  # threads per zoo model / task pipeline, on every machine (the parallelism is in processes)

# read by PyTorch / MKL / oneDNN when they load, so they are set in the environment of a fresh process
PINNED_KERNELS_X86 = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}


def thread_env(threads: int = ZOO_THREADS) -> dict[str, str]:
    """Thread settings for a build process. OpenMP threads sleep instead of spinning while they wait:
    on a busy machine spinning threads of a 2-thread process were measured 5x slower; results are the same."""
    t = str(threads)
    return {"OMP_NUM_THREADS": t, "MKL_NUM_THREADS": t, "OMP_WAIT_POLICY": "PASSIVE"}


def pinned_env() -> dict[str, str]:
    """Environment of a zoo pretraining process: fixed threads and, on x86-64, fixed kernels."""
    env = thread_env()
    if platform.machine().lower() in ("x86_64", "amd64"):
        env.update(PINNED_KERNELS_X86)
    return env


def numerics_tag() -> dict[str, object]:
    """What the running process computes with, recorded in each model's aar_zoo.json."""
    import torch

    return {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.machine(),
        "kernels": {k: os.environ.get(k) for k in PINNED_KERNELS_X86},
    }
