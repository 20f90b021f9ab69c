"""`aar w2s prepare`: zoo (if missing) + tasks (both draws) + weak artifacts per seed + fixed baselines.

Trusted code: it reads private labels (through `aar.tasks.private`) to score the weak model and
to train the strong ceiling. Baselines are computed on the `main` draw and stored in the meta.json of
both draws, so every PGR of a task uses the same denominator.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from aar.tasks.baseline_scores import run_scored, run_test_predictions
from aar.tasks.build import build_tasks
from aar.tasks.private import CEILING_PREDICTIONS, ceiling_config, labels_for, private_dir
from aar.tasks.registry import DRAWS, TASKS
from aar.tasks.sizes import size_spec
from aar.tasks.zoo.blank import build_blank
from aar.tasks.zoo.build import build_zoo, model_dir, zoo_ready
from aarlab.w2s.baselines import baseline_dir
from aarlab.w2s.jsonl import read_json, write_json
from aarlab.w2s.metrics import accuracy, mean_se
from aarlab.w2s.weak import weak_predictions

MODES = ("probe", "finetune")


def _write_weak(data_dir: Path, weak_model: str, seed: int) -> float:
    p_u, p_t = weak_predictions(data_dir, weak_model, seed)
    acc = accuracy((p_t > 0.5).astype(int), labels_for(data_dir)["test"])
    write_json(data_dir / "weak" / f"seed{seed}.json",
               {"seed": seed, "train_unlabel": [round(float(p), 6) for p in p_u], "weak_test_acc": acc})
    return acc


def prepare_task(task: str, size: str, root: Path, modes: tuple[str, ...] = MODES, threads: int = 1,
                 console: Console | None = None) -> dict:
    spec = size_spec(size)
    models = {"weak": str(model_dir(task, "weak", size)), "strong": str(model_dir(task, "strong", size))}
    weak_accs: dict[str, list[float]] = {}
    for draw in DRAWS:
        data_dir = root / task / draw / "public"
        meta = read_json(data_dir / "meta.json")
        meta["models"] = models
        write_json(data_dir / "meta.json", meta)
        weak_accs[draw] = [_write_weak(data_dir, models["weak"], s) for s in spec.seeds]
    main_dir = root / task / "main" / "public"
    baselines: dict[str, dict[str, float]] = {}
    w_m, w_se = mean_se(weak_accs["main"])
    for mode in modes:
        cfg = ceiling_config(main_dir)
        ceiling = baseline_dir("strong_ceiling")
        accs = [run_scored(ceiling, main_dir, s, mode, cfg, threads)[0] for s in spec.seeds]
        s_m, s_se = mean_se(accs)
        baselines[mode] = {"weak_acc": w_m, "strong_acc": s_m, "weak_acc_se": w_se, "strong_acc_se": s_se}
        if console:
            console.print(f"{task} {mode}: weak {w_m:.3f}±{w_se:.3f}  ceiling {s_m:.3f}±{s_se:.3f}")
    for draw in DRAWS:
        path = root / task / draw / "public" / "meta.json"
        meta = read_json(path)
        meta["baselines"] = {**meta.get("baselines", {}), **baselines}
        write_json(path, meta)
    write_ceiling_predictions(root / task / "heldout" / "public", spec.seeds, modes, threads)
    return baselines


def write_ceiling_predictions(data_dir: Path, seeds: tuple[int, ...], modes: tuple[str, ...],
                              threads: int = 1) -> Path:
    """The strong ceiling's test predictions on a draw, per mode and seed, kept private: the grader's
    reference for what the strong model can know (the `beyond-strong` check)."""
    cfg = ceiling_config(data_dir)
    ceiling = baseline_dir("strong_ceiling")
    out = {mode: {str(s): run_test_predictions(ceiling, data_dir, s, mode, cfg, threads)[0] for s in seeds}
           for mode in modes}
    path = private_dir(data_dir) / CEILING_PREDICTIONS
    write_json(path, out)
    return path


def prepare(size: str = "full", tasks: tuple[str, ...] | None = None, quiet: bool = False,
            threads: int = 1, modes: tuple[str, ...] = MODES) -> Path:
    """Build everything a run needs for `size` and return the tasks root."""
    import torch

    torch.set_num_threads(max(1, threads))
    console = None if quiet else Console()
    tasks = tasks or TASKS
    if not zoo_ready(size, tasks):
        build_zoo(size, tasks, quiet=quiet)
    for task in tasks:  # the overseer's knowledge-removed strong models
        build_blank(task, size)
    root = build_tasks(size, tasks)
    for task in tasks:
        prepare_task(task, size, root, modes, threads, console)
    return root
