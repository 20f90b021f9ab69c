"""Cost of the W2S testbed: zoo build time and seconds per experiment (probe, finetune).

    python benchmarks/w2s_cost.py [--size full|tiny] [--tasks math,code,world] [--threads 2] [--jobs N]
        [--rebuild]

Prints figures measured on this machine. `--rebuild` builds the zoo into a fresh temporary cache
(so the build is actually timed); otherwise a cached zoo reports the pretraining seconds it
recorded in each model's aar_zoo.json. The build always trains with the fixed numerics of
`aar.tasks.numerics` (`--jobs` tasks at once); `--threads` is for the experiments after it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="full")
    ap.add_argument("--tasks", default="math,code,world")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=None, help="tasks built at once (default cores // 2)")
    ap.add_argument("--rebuild", action="store_true")
    args = ap.parse_args()
    if args.rebuild:
        os.environ["AAR_CACHE"] = tempfile.mkdtemp(prefix="aar_cost_")
    import torch

    torch.set_num_threads(args.threads)
    from aar.tasks.baseline_scores import run_scored
    from aar.tasks.prepare import prepare
    from aar.tasks.zoo import build_zoo, model_dir, zoo_ready
    from aarlab.w2s.baselines import baseline_dir

    tasks = tuple(args.tasks.split(","))
    cached = zoo_ready(args.size, tasks)
    t0 = time.time()
    build_zoo(args.size, tasks, quiet=True, jobs=args.jobs)
    build_s = time.time() - t0
    recorded = sum(json.loads((model_dir(t, r, args.size) / "aar_zoo.json").read_text())["seconds"]
                   for t in tasks for r in ("weak", "strong"))
    shown = f"cached; recorded pretraining {recorded:.1f}" if cached else f"{build_s:.1f}"
    print(f"zoo build ({args.size}, {len(tasks)} tasks, {args.jobs or 'default'} jobs): {shown} s")
    t0 = time.time()
    root = prepare(args.size, tasks, quiet=True, jobs=args.jobs)
    print(f"w2s prepare (weak artifacts + ceilings, both modes): {time.time() - t0:.1f} s")
    for task in tasks:
        data = root / task / "main" / "public"
        for mode in ("probe", "finetune"):
            # the first run warms the feature cache, as every later experiment on this task finds it
            cold = run_scored(baseline_dir("vanilla_w2s"), data, 0, mode, threads=args.threads)[1]
            warm = run_scored(baseline_dir("vanilla_w2s"), data, 1, mode, threads=args.threads)[1]
            print(f"{task:6s} {mode:8s} experiment (vanilla_w2s): {warm:6.1f} s  (first run {cold:.1f} s)")
    if args.rebuild:
        shutil.rmtree(os.environ["AAR_CACHE"], ignore_errors=True)


if __name__ == "__main__":
    main()
