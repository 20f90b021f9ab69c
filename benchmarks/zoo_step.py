"""Seconds per pretraining step of a zoo model under different numerics settings (what the critical path
of a first `aar demo` costs: the main task's strong model).

    python benchmarks/zoo_step.py [--task math] [--role strong] [--steps 40] [--size full]
        [--busy N] [--nice K]

Each setting runs in a fresh process (torch reads these variables when it loads): the zoo's pinned
numerics (`aar.tasks.numerics.pinned_env`: 2 threads, AVX2 kernels) with each OpenMP wait policy
(spinning `ACTIVE`, sleeping `PASSIVE`, libgomp's own spin-then-sleep when unset: same weights), and the
machine's own kernels (different weights: shown for what the pinning costs). Steps after the first 5 are
timed. `--busy N` runs N busy-looping processes beside it (a machine others use), `--nice K` runs the
timed process at niceness K (a build in the background of a running team): the figures behind the
table in `aar.tasks.numerics`. Run it on an otherwise idle machine: every figure stretches with other work.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import dataclasses, json, sys, time
import torch
from aar.tasks.build import corpus
from aar.tasks.sizes import size_spec
from aar.tasks.zoo import pretrain as pt
from aar.tasks.zoo.tokenizer import make_tokenizer
size, task, role, steps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
torch.set_num_threads(2)
tok = make_tokenizer()
seqs = pt.encode_corpus(corpus(task, size), tok)
spec = dataclasses.replace(size_spec(size).model_spec(task, role), steps=steps)
times = []
last = [time.perf_counter()]
def on_step(step, loss):
    now = time.perf_counter()
    times.append(now - last[0])
    last[0] = now
pt.pretrain(spec, seqs, tok, 0, on_step=on_step)
timed = times[5:]
print(json.dumps({"s_per_step": sum(timed) / len(timed), "steps_timed": len(timed)}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", default="math")
    ap.add_argument("--role", default="strong")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--size", default="full")
    ap.add_argument("--busy", type=int, default=0, help="busy-looping processes to run beside it")
    ap.add_argument("--nice", type=int, default=0, help="niceness of the timed process")
    a = ap.parse_args()
    from aar.tasks.numerics import PINNED_KERNELS_X86, pinned_env
    from aar.tasks.sizes import size_spec

    pinned = pinned_env()
    native = {k: v for k, v in pinned.items() if k not in PINNED_KERNELS_X86}
    settings = {
        "pinned, active wait (spin)": pinned_env("ACTIVE"),
        "pinned, wait policy unset": {k: v for k, v in pinned.items() if k != "OMP_WAIT_POLICY"},
        "pinned, passive wait (sleep)": pinned,
        "native kernels, passive wait": native,
    }
    full_steps = size_spec(a.size).model_spec(a.task, a.role).steps
    print(f"{a.size} {a.task} {a.role}: {full_steps} steps in a build; {a.busy} busy processes beside it; "
          f"nice {a.nice}; load {os.getloadavg()[0]:.1f}")
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(a.busy)]
    try:
        for name, env in settings.items():
            base = {k: v for k, v in os.environ.items()
                    if k not in PINNED_KERNELS_X86 and k != "OMP_WAIT_POLICY"}
            cp = subprocess.run(["nice", "-n", str(a.nice), sys.executable, "-c", CHILD, a.size, a.task,
                                 a.role, str(a.steps)], env={**base, **env}, capture_output=True, text=True,
                                check=True)
            r = json.loads(cp.stdout.strip().splitlines()[-1])
            ms, total = r["s_per_step"] * 1000, r["s_per_step"] * full_steps
            print(f"  {name:32s} {ms:7.1f} ms/step -> {total:5.0f} s for the model "
                  f"(load {os.getloadavg()[0]:.1f})", flush=True)
    finally:
        for b in burners:
            b.kill()


if __name__ == "__main__":
    main()
