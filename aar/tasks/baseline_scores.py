"""Trusted evaluation of baseline ideas: runs them through the runner and scores them with private labels."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from aar.paths import tasks_dir
from aar.tasks.grade import accuracy, pgr
from aar.tasks.private import ceiling_config, labels_for
from aarlab.w2s.baselines import BASELINES, baseline_dir
from aarlab.w2s.idea import load_config
from aarlab.w2s.jsonl import read_json
from aarlab.w2s.metrics import mean_se
from aarlab.w2s.run_idea import make_context, run_context


def idea_config(name: str, data_dir: Path) -> dict:
    cfg = load_config(baseline_dir(name))
    if name == "strong_ceiling":
        cfg.update(ceiling_config(data_dir))
    return cfg


def run_test_predictions(idea_dir: Path, data_dir: Path, seed: int, mode: str, config: dict | None = None,
                         threads: int = 1) -> tuple[list[int], float]:
    """(test predictions, seconds) of one in-process idea run."""
    with tempfile.TemporaryDirectory(prefix="aar_w2s_") as out:
        t0 = time.time()
        ctx = make_context(idea_dir, data_dir, Path(out), seed, threads=threads, mode=mode, config=config)
        preds = run_context(idea_dir, ctx)
        return preds["test"], time.time() - t0


def run_scored(idea_dir: Path, data_dir: Path, seed: int, mode: str, config: dict | None = None,
               threads: int = 1) -> tuple[float, float]:
    """(test accuracy, seconds) of one idea run, scored on the full test split."""
    preds, seconds = run_test_predictions(idea_dir, data_dir, seed, mode, config, threads)
    return accuracy(preds, labels_for(data_dir)["test"]), seconds


def baselines_table(task: str, mode: str = "probe", seeds: int | None = None, size: str = "full",
                    names: tuple[str, ...] | None = None, draw: str = "main", threads: int = 1,
                    root: Path | None = None) -> list[dict]:
    """One row per baseline: idea, weak_acc, strong_acc (fixed, from meta), transfer_acc (mean over
    seeds), transfer_acc_se, pgr, pgr_se, seconds (mean per seed). `root`: the tasks dir (default the
    cache's for `size`)."""
    data_dir = (root or tasks_dir(size)) / task / draw / "public"
    meta = read_json(data_dir / "meta.json")
    fixed = meta["baselines"][mode]
    seed_list = list(meta["seeds"])[: seeds or len(meta["seeds"])]
    rows = []
    for name in names or BASELINES:
        accs: list[float] = []
        pgrs: list[float | None] = []
        secs: list[float] = []
        for seed in seed_list:
            cfg = idea_config(name, data_dir)
            acc, sec = run_scored(baseline_dir(name), data_dir, seed, mode, cfg, threads)
            accs.append(acc)
            pgrs.append(pgr(acc, fixed["weak_acc"], fixed["strong_acc"]))
            secs.append(sec)
        acc_m, acc_se = mean_se(accs)
        pgr_m, pgr_se = mean_se(pgrs) if all(p is not None for p in pgrs) else (None, None)
        rows.append({"idea": name, "weak_acc": fixed["weak_acc"], "strong_acc": fixed["strong_acc"],
                     "transfer_acc": acc_m, "transfer_acc_se": acc_se, "pgr": pgr_m, "pgr_se": pgr_se,
                     "seconds": sum(secs) / len(secs)})
    return rows
