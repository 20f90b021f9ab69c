"""The searcher's policies on the same evaluation budget: the TPE policy (`tpe.py`: Optuna TPE over the
conditional recipe space, paired tests) against the local policy (`policy.py`: one-factor mutations
around the best), and random search.

    python benchmarks/searcher_policy.py                 # simulated surfaces (seconds)
    python benchmarks/searcher_policy.py --real math     # real probe-mode runs on the full task

Simulated: made-up response surfaces over the enlarged space; every run yields per-item test
predictions (items have a latent difficulty, so similar recipes err alike) scored on a hidden public
half, rounded like the server. Reported: the true (noise-free) PGR of the recipe each policy ends up
calling its best, mean over starting directions and repetitions.

Real (trusted: it reads private labels): recipes run in-process on the full zoo in probe mode with
agent seed 0; a policy sees only the public-half score and its own predictions; the recipe it calls
best is then scored on the private half of test over seeds 0-2 (what the overseer's re-check
resembles). Runs are cached in a JSON file, so the policies share identical runs.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np

from aar.agents.searcher import space
from aar.agents.searcher.directions import DIRECTIONS, Direction
from aar.agents.searcher.policy import Policy
from aar.agents.searcher.tpe import TpePolicy
from aarlab.w2s.paired import pack

N_TEST, N_PUBLIC, WEAK, STRONG = 2000, 1000, 0.6, 0.9
Surface = Callable[[dict], float]


def sanity(r: dict) -> float:
    """What far-from-default fine hyper-parameters cost (as on the real probe runs: too small a learning
    rate or too few steps underfit, heavy regularisation blurs)."""
    return -(
        0.04 * (r["lr"] not in (None, 3e-2, 1e-1))
        + 0.04 * (r["epochs"] in (5, 10, 20))
        + 0.03 * ((r["l2"] or 0) >= 0.1)
        + 0.02 * (r["weight_decay"] >= 0.01)
        + 0.02 * ((r["pca_dim"] or 99) <= 8)
    )


def surfaces() -> dict[str, Surface]:
    def additive(r: dict) -> float:
        return sanity(r) + (
            0.68
            + 0.10 * (r["label_source"] == "direction")
            + 0.05 * (r["feature_view"] == "auto")
            + 0.03 * (r["loss"] == "aux_conf")
            - 0.06 * (r["label_source"] == "strong_prior")
        )

    def interaction(r: dict) -> float:  # the channel only pays with EM and a direction prior
        on = (
            r["label_source"] == "channel"
            and r["channel_prior"] == "direction"
            and r["channel_em_iters"] >= 3
        )
        return (
            sanity(r)
            + 0.68
            + 0.15 * on
            + 0.02 * (r["filter"] == "weak_confidence")
            - 0.03 * (r["rounds"] > 1)
        )

    def narrow(r: dict) -> float:  # ICM with the right move size and a knn filter
        icm = r["label_source"] == "icm"
        return sanity(r) + (
            0.68
            + 0.06 * icm
            + 0.05 * (icm and r["icm_flip_frac"] == 0.01)
            + 0.04 * (r["filter"] == "knn" and r["filter_keep"] in (0.7, 0.8))
        )

    return {"additive": additive, "interaction": interaction, "narrow": narrow}


class SimTask:
    def __init__(self, surface: Surface, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.truth = rng.integers(0, 2, N_TEST)
        self.public = np.zeros(N_TEST, dtype=bool)
        self.public[rng.permutation(N_TEST)[:N_PUBLIC]] = True
        self.difficulty = rng.uniform(size=N_TEST)
        self.surface = surface

    def true_pgr(self, recipe: dict) -> float:
        return (self.surface(space.normalize(recipe)) - WEAK) / (STRONG - WEAK)

    def run(self, recipe: dict, seed: int) -> tuple[list[int], float, float]:
        acc = self.surface(space.normalize(recipe))
        g = np.random.default_rng(zlib.crc32(f"{space.key(recipe)}|{seed}".encode()))
        s = self.difficulty + 0.3 * g.normal(size=N_TEST)
        preds = np.where(s > np.quantile(s, acc), 1 - self.truth, self.truth)
        pub = round(float((preds == self.truth)[self.public].mean()), 3)
        return preds.tolist(), pub, round((pub - WEAK) / (STRONG - WEAK), 3)


Runner = Callable[[dict, int], tuple[list[int], float, float]]


def make_policy(kind: str, d: Direction, rep: int, extra_seeds: list[int]) -> Policy | TpePolicy:
    if kind == "local":
        return Policy(d, "a", rng_seed=rep, modes=["probe"])
    return TpePolicy(
        d,
        "a",
        rng_seed=rep,
        modes=["probe"],
        seeds=[0],
        extra_seeds=extra_seeds,
        n_public=N_PUBLIC,
        n_test=N_TEST,
    )


def drive(pol: Policy | TpePolicy, run: Runner, budget: int) -> dict | None:
    """Spend `budget` evaluations; return the recipe the policy calls best."""
    spent = 0
    while spent < budget:
        p = pol.propose()
        if p is None:
            break
        seeds = p.seeds or [0]
        scores, accs, preds = {}, {}, {}
        for s in seeds:
            pr, acc, pgr = run(p.recipe, s)
            scores[str(s)], accs[str(s)], preds[str(s)] = pgr, acc, pack(pr)
        spent += len(seeds)
        pol.record(p, scores, idea=f"i{spent}", accuracy=accs, preds=preds)
        if isinstance(pol, TpePolicy):
            pol.new_insights()
    best = pol.best(own_only=True)
    return best.recipe if best else None


def random_search(run: Runner, budget: int, rng: random.Random) -> dict:
    cands = []
    for _ in range(budget):
        r = {c: rng.choice(space.values(c)) for c in space.COMPONENTS if c != "mode"}
        r["mode"] = "probe"
        cands.append(space.normalize(r))
    return max(cands, key=lambda r: run(r, 0)[2])


def simulated(budget: int, reps: int, directions: list[Direction]) -> None:
    print(
        f"simulated surfaces: true PGR of the recipe each policy calls best after {budget} evaluations "
        f"(mean ± s.e. over {len(directions)} directions x {reps} repetitions)"
    )
    for name, surf in surfaces().items():
        task = SimTask(surf)
        out: dict[str, list[float]] = {"tpe": [], "local": [], "random": []}
        t0 = time.time()
        for i, d in enumerate(directions):
            for rep in range(reps):
                for kind in ("tpe", "local"):
                    best = drive(make_policy(kind, d, rep, [1, 2]), task.run, budget)
                    out[kind].append(task.true_pgr(best) if best else 0.0)
                rng = random.Random(1000 * rep + i)
                out["random"].append(task.true_pgr(random_search(task.run, budget, rng)))
        opt = max(task.true_pgr(r) for r in optimum_candidates())
        line = ", ".join(
            f"{k} {statistics.mean(v):.3f} ± {statistics.stdev(v) / len(v) ** 0.5:.3f}"
            for k, v in out.items()
        )
        print(f"  {name:12s} (optimum {opt:.3f}): {line}  [{time.time() - t0:.0f}s]")


def optimum_candidates() -> list[dict]:
    return [
        {"label_source": "direction", "feature_view": "auto", "loss": "aux_conf"},
        {
            "label_source": "channel",
            "channel_prior": "direction",
            "channel_em_iters": 3,
            "filter": "weak_confidence",
        },
        {"label_source": "icm", "icm_flip_frac": 0.01, "filter": "knn", "filter_keep": 0.7},
    ]


# -- real runs (trusted) --------------------------------------------------------------------------


class RealTask:
    """Probe-mode recipe runs on a full task, cached per (recipe key, seed)."""

    def __init__(self, task: str, cache: Path) -> None:
        from aar.paths import tasks_dir
        from aar.tasks.private import labels_for
        from aarlab.w2s.jsonl import read_json

        self.data = tasks_dir("full") / task / "main" / "public"
        self.labels = np.asarray(labels_for(self.data)["test"])
        mask = read_json(self.data.parent / "private" / "test_public_mask.json")
        self.public = np.asarray(mask, dtype=bool)
        b = read_json(self.data / "meta.json")["baselines"]["probe"]
        self.weak, self.strong = b["weak_acc"], b["strong_acc"]
        self.cache_path = cache
        self.cache: dict[str, dict] = json.loads(cache.read_text()) if cache.exists() else {}
        self.seconds = 0.0

    def pgr(self, acc: float) -> float:
        return (acc - self.weak) / (self.strong - self.weak)

    def _entry(self, recipe: dict, seed: int) -> dict:
        from aarlab.w2s.recipe import run_recipe, write_idea
        from aarlab.w2s.run_idea import make_context

        k = f"{space.key(recipe)}|{seed}"
        if k not in self.cache:
            with tempfile.TemporaryDirectory() as tmp:
                idea = write_idea(Path(tmp) / "idea", {**space.compact(recipe), "mode": "probe"})
                ctx = make_context(idea, self.data, Path(tmp) / "out", seed, mode="probe")
                t0 = time.time()
                try:
                    run_recipe(ctx, ctx.config)
                    preds = json.loads((Path(tmp) / "out" / "predictions.json").read_text())["test"]
                except Exception as e:  # a recipe that fails is a failed run for the policy too
                    print(f"    run failed: {e}", file=sys.stderr)
                    preds = [0] * len(self.labels)
                self.seconds += time.time() - t0
            p = np.asarray(preds)
            right = p == self.labels
            self.cache[k] = {
                "preds": preds,
                "pub": round(float(right[self.public].mean()), 3),
                "priv": float(right[~self.public].mean()),
            }
            self.cache_path.write_text(json.dumps(self.cache))
        return self.cache[k]

    def run(self, recipe: dict, seed: int) -> tuple[list[int], float, float]:
        e = self._entry(recipe, seed)
        return e["preds"], e["pub"], round(self.pgr(e["pub"]), 3)

    def private_pgr(self, recipe: dict, seeds: tuple[int, ...] = (0, 1, 2)) -> float:
        return statistics.mean(self.pgr(self._entry(recipe, s)["priv"]) for s in seeds)


def real(task_name: str, budget: int, reps: int, directions: list[Direction], cache: Path) -> None:
    import torch

    torch.set_num_threads(1)
    task = RealTask(task_name, cache)
    print(
        f"real runs on {task_name} (probe mode, agent seed 0): private-half PGR over seeds 0-2 of the recipe "
        f"each policy calls best after {budget} evaluations; {len(directions)} directions x {reps} reps"
    )
    out: dict[str, list[float]] = {"tpe": [], "local": []}
    for d in directions:
        for rep in range(reps):
            for kind in ("tpe", "local"):
                t0 = time.time()
                best = drive(make_policy(kind, d, rep, [1, 2]), task.run, budget)
                v = task.private_pgr(best) if best else 0.0
                out[kind].append(v)
                print(
                    f"  {d.name:24s} rep {rep} {kind:5s}: {v:.3f}  "
                    f"best {json.dumps(space.compact(best or {}))}"
                    f"  [{time.time() - t0:.0f}s]",
                    flush=True,
                )
    for k, v in out.items():
        se = statistics.stdev(v) / len(v) ** 0.5 if len(v) > 1 else 0.0
        print(f"{k}: {statistics.mean(v):.3f} ± {se:.3f} (n={len(v)})")
    print(
        f"distinct runs cached: {len(task.cache)}; compute this session {task.seconds:.0f}s (machine shared)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=int, default=24)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--real", default=None, help="a full-size task to run real recipes on (trusted)")
    ap.add_argument(
        "--directions", default=None, help="comma-separated direction names (default: all / first 3)"
    )
    ap.add_argument(
        "--cache", type=Path, default=None, help="run cache (default: $AAR_CACHE/bench/searcher_TASK.json)"
    )
    args = ap.parse_args()
    names = args.directions.split(",") if args.directions else None
    ds = [d for d in DIRECTIONS if names is None or d.name in names]
    if args.real:
        from aarlab.paths import cache_dir

        cache = args.cache or cache_dir() / "bench" / f"searcher_{args.real}.json"
        cache.parent.mkdir(parents=True, exist_ok=True)
        real(args.real, args.budget, args.reps, ds if names else ds[:3], cache)
    else:
        simulated(args.budget, args.reps, ds)


if __name__ == "__main__":
    main()
