"""What one short idea run costs: a probe recipe whose strong features are all cached, run as a fresh
`python -m aarlab.w2s.run_idea` process (as every agent's and every overseer re-run is).

    python benchmarks/run_startup.py [--task math] [--runs 5] [--src OTHER_CHECKOUT]

Prints the median wall and CPU time (user + sys of the child) per run and the load average. `--src` also
times another checkout's `aarlab` (e.g. main before a change) in the same session, alternating the two,
so they compare as a ratio measured side by side. Needs a prepared task (`aar w2s prepare`) whose
features the first, untimed run of each checkout fills into the cache.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from cli_startup import time_once  # the same timing of a fresh process (this script's folder is on sys.path)

RECIPE = {"pca_dim": 20, "loss": "aux_conf", "aux_alpha": 0.75, "filter": "weak_confidence",
          "filter_keep": 0.8}


def _argv(src: Path | None, idea: Path, data: Path, out: Path) -> list[str]:
    args = [str(idea), "--data-dir", str(data), "--out", str(out), "--threads", "1"]
    if src is None:
        return [sys.executable, "-m", "aarlab.w2s.run_idea", *args]
    code = (f"import sys; sys.path.insert(0, {str(src)!r}); sys.argv = ['run_idea', *{args!r}]\n"
            "from aarlab.w2s.run_idea import main\nsys.exit(main())")
    return [sys.executable, "-c", code]


def main() -> None:
    from aar.paths import tasks_dir
    from aarlab.w2s.recipe import write_idea

    ap = argparse.ArgumentParser()
    ap.add_argument("--task", default="math")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--src", type=Path, default=None, help="another aar checkout to time alongside")
    args = ap.parse_args()
    data = tasks_dir("full") / args.task / "main" / "public"
    if not (data / "meta.json").is_file():
        sys.exit(f"no prepared task at {data}: run `aar w2s prepare --task {args.task}` first")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="aar_bench_") as tmp:
        idea = write_idea(Path(tmp) / "idea", RECIPE)
        srcs = {"this": None, **({"other": args.src.resolve()} if args.src else {})}
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in srcs}
        for src in srcs.values():
            time_once(_argv(src, idea, data, Path(tmp) / "out"))  # fills the feature cache, warms the disk
        for _ in range(args.runs):
            for name, src in srcs.items():
                samples[name].append(time_once(_argv(src, idea, data, Path(tmp) / "out")))
    for name, rows in samples.items():
        wall = statistics.median(r[0] for r in rows)
        cpu = statistics.median(r[1] for r in rows)
        print(f"{name:6s} median of {len(rows)}: {wall:6.2f} s wall, {cpu:6.2f} s CPU per run")
    if args.src:
        walls = {name: statistics.median(r[0] for r in rows) for name, rows in samples.items()}
        ratio = walls["this"] / walls["other"]
        print(f"wall ratio this / other: {ratio:.2f}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
