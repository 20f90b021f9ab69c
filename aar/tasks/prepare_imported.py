"""Weak artifacts and fixed baselines of an imported task (both draws), with the ceiling-margin check.

What `aar w2s prepare` does for the built-in tasks: per seed, the weak supervisor (the weak model's probe
on `train_label`) gives soft labels on each draw's `train_unlabel` (`<draw>/public/weak/seed{S}.json`);
the weak and strong-ceiling accuracies on the `main` test split, mean over seeds, become the fixed
baselines of both draws (one PGR denominator per task), and the same figures per test `subset` go to
`<draw>/private/subset_baselines.json` (grader and report only).

A strong ceiling that does not beat the weak supervisor by max(`min_gap`, 2 binomial s.e. of the weak
accuracy on the main test split) makes every PGR noise (or its sign meaningless): that is a `CeilingError`
and nothing is written. Everything is computed first and written last.

Trusted code: it reads the private labels (`aar.tasks.private`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.console import Console

from aar.tasks.aar_jsonl import CeilingError
from aar.tasks.baseline_scores import run_test_predictions
from aar.tasks.grade import accuracy, binomial_se, by_subset
from aar.tasks.private import SUBSET_BASELINES, ceiling_config, labels_for, private_dir, subsets_for
from aarlab.w2s.baselines import baseline_dir
from aarlab.w2s.jsonl import read_json, write_json
from aarlab.w2s.metrics import mean_se
from aarlab.w2s.weak import weak_predictions

MIN_GAP = 0.05
DRAWS = ("main", "heldout")
__all__ = ["CeilingError", "MIN_GAP", "check_gap", "imported", "prepare_imported", "required_gap"]


def required_gap(weak_acc: float, n_test: int, min_gap: float = MIN_GAP) -> float:
    return max(min_gap, 2 * binomial_se(weak_acc, n_test))


def check_gap(task: str, mode: str, weak_acc: float, strong_acc: float, n_test: int, min_gap: float) -> None:
    need = required_gap(weak_acc, n_test, min_gap)
    if strong_acc - weak_acc < need:
        raise CeilingError(
            f"{task}: the {mode} strong ceiling {strong_acc:.3f} does not beat the weak supervisor "
            f"{weak_acc:.3f} by the required {need:.3f} (max(min gap {min_gap:g}, 2 binomial s.e. on "
            f"{n_test} test items)), so every PGR would be noise; nothing was stored")


def subset_baselines(subsets: list[str], labels: np.ndarray, weak: list[np.ndarray],
                     strong: list[np.ndarray]) -> dict[str, dict]:
    """Per subset: weak and ceiling accuracy (mean over seeds) and the item count."""
    def mean_acc(runs: list[np.ndarray]) -> dict[str, float]:
        per = [by_subset(r, labels, subsets) for r in runs]
        return {name: float(np.mean([p[name].accuracy for p in per])) for name in per[0]}

    w, s = mean_acc(weak), mean_acc(strong)
    counts = {name: int(sum(1 for x in subsets if x == name)) for name in w}
    return {name: {"weak_acc": w[name], "strong_acc": s[name], "n": counts[name]} for name in sorted(w)}


def prepare_imported(task_dir: Path, modes: tuple[str, ...] = ("finetune",), threads: int = 1,
                     min_gap: float = MIN_GAP, console: Console | None = None) -> dict:
    """Compute and write the weak artifacts and fixed baselines of an imported task dir; returns the
    baselines. Raises CeilingError (and writes nothing) when a mode's ceiling is too close to the weak."""
    task_dir = Path(task_dir)
    draws = [d for d in DRAWS if (task_dir / d / "public" / "meta.json").is_file()]
    main = task_dir / "main" / "public"
    meta = read_json(main / "meta.json")
    seeds = [int(s) for s in meta["seeds"]]
    weak_docs: dict[str, dict[int, dict]] = {}
    weak_test: dict[int, np.ndarray] = {}
    for draw in draws:
        pub = task_dir / draw / "public"
        y = np.asarray(labels_for(pub)["test"])
        for seed in seeds:
            p_u, p_t = weak_predictions(pub, meta["models"]["weak"], seed)
            preds = (p_t > 0.5).astype(int)
            weak_docs.setdefault(draw, {})[seed] = {
                "seed": seed, "train_unlabel": [round(float(p), 6) for p in p_u],
                "weak_test_acc": accuracy(preds, y)}
            if draw == "main":
                weak_test[seed] = preds
    y_main = np.asarray(labels_for(main)["test"])
    w_m, w_se = mean_se([weak_docs["main"][s]["weak_test_acc"] for s in seeds])
    subsets = subsets_for(main)
    baselines: dict[str, dict] = {}
    per_subset: dict[str, dict] = {}
    for mode in modes:
        cfg = ceiling_config(main)
        ceiling = baseline_dir("strong_ceiling")
        runs = [np.asarray(run_test_predictions(ceiling, main, s, mode, cfg, threads)[0]) for s in seeds]
        s_m, s_se = mean_se([accuracy(r, y_main) for r in runs])
        if console:
            console.print(f"{meta['task']} {mode}: weak {w_m:.3f}±{w_se:.3f}  ceiling {s_m:.3f}±{s_se:.3f}")
        check_gap(meta["task"], mode, w_m, s_m, int(y_main.size), min_gap)
        baselines[mode] = {"weak_acc": w_m, "strong_acc": s_m, "weak_acc_se": w_se, "strong_acc_se": s_se}
        if subsets is not None:
            per_subset[mode] = subset_baselines(subsets, y_main, [weak_test[s] for s in seeds], runs)
    for draw in draws:
        pub = task_dir / draw / "public"
        for seed, doc in weak_docs[draw].items():
            write_json(pub / "weak" / f"seed{seed}.json", doc)
        if per_subset:
            write_json(private_dir(pub) / SUBSET_BASELINES, per_subset)
        m = read_json(pub / "meta.json")
        m["baselines"], m["reference_mode"] = baselines, modes[0]
        write_json(pub / "meta.json", m)  # last: the server loads a draw once it has baselines
    return baselines


def imported(meta: dict) -> bool:
    return (meta.get("source") or {}).get("format") == "aar_jsonl"
