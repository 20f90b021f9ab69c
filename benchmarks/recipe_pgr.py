"""Held-out PGR of given W2S recipes on a full task (trusted: it reads the private labels).

    python benchmarks/recipe_pgr.py [--task math] [--seeds 0,1,2] [RECIPES.jsonl]

Each recipe (one JSON object per line; without a file, the composed recipes below and the plain
methods they compose) runs in-process in probe mode, once per seed, and is scored on the private half
of test, as the overseer's re-check scores a claim; printed: PGR per seed, mean and s.d., and the
seconds per run. Runs are cached with `benchmarks/searcher_policy.py --real`'s (same file, same keys).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from searcher_policy import RealTask  # noqa: E402

from aar.agents.searcher import space  # noqa: E402

GMM64 = {"direction_method": "gmm", "feature_dim": 64}
DEFAULT = [
    {"label_source": "icm"},
    {"label_source": "direction", **GMM64},
    {"label_source": "direction", **GMM64, "filter": "target_confidence", "hard_targets": True},
    {"label_source": "icm", "input_labels": "direction", **GMM64},
    {"label_source": "icm", "input_labels": "direction", "direction_method": "pca"},
    {"label_source": "icm", "input_labels": "direction", "direction_method": "cluster_means"},
    {"label_source": "knn", "input_labels": "icm"},
    {"label_source": "knn", "input_labels": "icm", "hard_targets": True},
    {"label_source": "knn", "input_labels": "direction", **GMM64},
    {"label_source": "icm", "input_labels": "direction", **GMM64, "filter": "target_confidence"},
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("recipes", nargs="?", type=Path, help="JSON lines, one recipe each (default: built-in)")
    ap.add_argument("--task", default="math")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--cache", type=Path, default=None)
    args = ap.parse_args()
    import torch

    from aarlab.paths import cache_dir

    torch.set_num_threads(1)
    recipes = (
        [json.loads(line) for line in args.recipes.read_text().splitlines() if line.strip()]
        if args.recipes
        else DEFAULT
    )
    seeds = tuple(int(s) for s in args.seeds.split(","))
    cache = args.cache or cache_dir() / "bench" / f"searcher_{args.task}.json"
    cache.parent.mkdir(parents=True, exist_ok=True)
    task = RealTask(args.task, cache)
    print(f"{args.task}: weak {task.weak:.3f}, strong ceiling {task.strong:.3f} (probe); private-half PGR")
    for r in recipes:
        before = task.seconds
        per_seed = [task.pgr(task._entry(r, s)["priv"]) for s in seeds]
        ran = task.seconds - before
        sd = statistics.stdev(per_seed) if len(per_seed) > 1 else 0.0
        print(
            f"  {statistics.mean(per_seed):6.3f} ± {sd:.3f}  seeds {' '.join(f'{v:.3f}' for v in per_seed)}"
            f"  [{ran / len(seeds):.0f} s/run{' cached' if ran == 0 else ''}]"
            f"  {json.dumps(space.compact(r))}",
            flush=True,
        )


if __name__ == "__main__":
    main()
