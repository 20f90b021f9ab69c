"""`aar w2s prepare`: zoo (if missing) + tasks (both draws) + weak artifacts per seed + fixed baselines.

Trusted code: it reads private labels (through `aar.tasks.private`) to score the weak model and
to train the strong ceiling. Baselines are computed on the `main` draw and stored in the meta.json of
both draws, so every PGR of a task uses the same denominator. The reference mode's baselines are
written first (the task is then ready to score, see `aar.tasks.readiness`), the other mode's after.

`prepare_task` runs in a worker process per task (`python -m aar.tasks.prepare_worker`), scheduled
by `aar.tasks.schedule.Build`; `prepare` is the whole build.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from aar.tasks.registry import DRAWS, TASKS

MODES = ("probe", "finetune")

Emit = Callable[..., None]


def _write_weak(data_dir: Path, weak_model: str, seed: int) -> float:
    from aar.tasks.private import WEAK_PREDICTIONS, labels_for, private_dir
    from aarlab.w2s.jsonl import read_json, write_json
    from aarlab.w2s.metrics import accuracy
    from aarlab.w2s.weak import weak_predictions

    p_u, p_t = weak_predictions(data_dir, weak_model, seed)
    hard = (p_t > 0.5).astype(int)
    acc = accuracy(hard, labels_for(data_dir)["test"])
    write_json(data_dir / "weak" / f"seed{seed}.json",
               {"seed": seed, "train_unlabel": [round(float(p), 6) for p in p_u], "weak_test_acc": acc})
    # private: the grader's reference for what the weak supervisor knows (the `beyond-strong` check)
    path = private_dir(data_dir) / WEAK_PREDICTIONS
    have = read_json(path) if path.exists() else {}
    write_json(path, {**have, str(seed): [int(x) for x in hard]})
    return acc


def prepare_task(task: str, size: str, root: Path, modes: tuple[str, ...] = MODES, threads: int = 2,
                 emit: Emit | None = None, missing_only: bool = False) -> dict:
    """Task files, weak artifacts and fixed baselines of one task; with `missing_only`, only the baseline
    modes a ready task lacks (its files and weak artifacts are kept). Returns the baselines."""
    from aar.tasks.baseline_scores import run_scored
    from aar.tasks.build import build_task
    from aar.tasks.private import ceiling_config
    from aar.tasks.readiness import draw_ready
    from aar.tasks.sizes import size_spec
    from aar.tasks.zoo.build import model_dir
    from aarlab.w2s.baselines import baseline_dir
    from aarlab.w2s.jsonl import read_json, write_json
    from aarlab.w2s.metrics import mean_se

    emit = emit or (lambda **_: None)
    spec = size_spec(size)
    main_dir = root / task / "main" / "public"
    have = read_json(main_dir / "meta.json").get("baselines", {}) if missing_only and all(
        draw_ready(root / task / d / "public", ()) for d in DRAWS) else None
    if have is None:  # files and weak artifacts from scratch
        emit(stage="task files", steps=0)
        build_task(task, size, root)
        emit(done="task files")
        models = {"weak": str(model_dir(task, "weak", size)), "strong": str(model_dir(task, "strong", size))}
        emit(stage="weak labels", steps=len(DRAWS) * len(spec.seeds))
        weak_accs: dict[str, list[float]] = {}
        for draw in DRAWS:
            data_dir = root / task / draw / "public"
            meta = read_json(data_dir / "meta.json")
            meta["models"], meta["baselines"] = models, {}
            write_json(data_dir / "meta.json", meta)
            weak_accs[draw] = []
            for s in spec.seeds:
                weak_accs[draw].append(_write_weak(data_dir, models["weak"], s))
                emit(step=len(weak_accs[draw]) + (len(spec.seeds) if draw != DRAWS[0] else 0))
        emit(done="weak labels")
        w_m, w_se = mean_se(weak_accs["main"])
        have = {}
    else:
        w_m, w_se = mean_se([read_json(main_dir / "weak" / f"seed{s}.json")["weak_test_acc"]
                             for s in spec.seeds])
    baselines = dict(have)
    reference = read_json(main_dir / "meta.json").get("reference_mode", "probe")
    heldout = root / task / "heldout" / "public"
    for mode in sorted(modes, key=lambda m: m != reference):  # the reference mode first: then scorable
        if mode in baselines:
            write_ceiling_predictions(heldout, spec.seeds, mode, threads, emit)
            continue
        stage = f"{mode} ceiling"
        emit(stage=stage, steps=len(spec.seeds))
        cfg = ceiling_config(main_dir)
        accs = []
        for s in spec.seeds:
            accs.append(run_scored(baseline_dir("strong_ceiling"), main_dir, s, mode, cfg, threads)[0])
            emit(step=len(accs))
        s_m, s_se = mean_se(accs)
        baselines[mode] = {"weak_acc": w_m, "strong_acc": s_m, "weak_acc_se": w_se, "strong_acc_se": s_se}
        for draw in DRAWS:
            path = root / task / draw / "public" / "meta.json"
            meta = read_json(path)
            meta["baselines"] = {**meta.get("baselines", {}), mode: baselines[mode]}
            write_json(path, meta)
        emit(done=stage, weak_acc=round(w_m, 4), strong_acc=round(s_m, 4))
        # ready only with the held-out draw's ceiling predictions too: the server reads them once, when it
        # loads the task, for the beyond-strong check of every held-out re-run
        write_ceiling_predictions(heldout, spec.seeds, mode, threads, emit)
        emit(ready=mode)
    return baselines


def write_ceiling_predictions(data_dir: Path, seeds: tuple[int, ...], mode: str, threads: int = 2,
                              emit: Emit | None = None) -> None:
    """The strong ceiling's test predictions on a draw in `mode`, per seed, kept private (unless already
    there): the grader's reference for what the strong model can know (the `beyond-strong` check)."""
    from aar.tasks.baseline_scores import run_test_predictions
    from aar.tasks.private import CEILING_PREDICTIONS, ceiling_config, has_ceiling_predictions, private_dir
    from aarlab.w2s.baselines import baseline_dir
    from aarlab.w2s.jsonl import read_json, write_json

    if has_ceiling_predictions(data_dir, mode, seeds):
        return
    path = private_dir(data_dir) / CEILING_PREDICTIONS
    have = read_json(path) if path.exists() else {}
    emit = emit or (lambda **_: None)
    stage = f"held-out {mode} ceiling"
    emit(stage=stage, steps=len(seeds))
    cfg, ceiling = ceiling_config(data_dir), baseline_dir("strong_ceiling")
    preds = {}
    for s in seeds:
        preds[str(s)] = run_test_predictions(ceiling, data_dir, s, mode, cfg, threads)[0]
        emit(step=len(preds))
    write_json(path, {**have, mode: preds})
    emit(done=stage)


def prepare(size: str = "full", tasks: tuple[str, ...] | None = None, quiet: bool = False,
            modes: tuple[str, ...] = MODES, jobs: int | None = None) -> Path:
    """Build everything a run needs for `size` (one worker process per task, at most `jobs` at once;
    the zoo first where missing) and return the tasks root."""
    from aar.paths import tasks_dir
    from aar.tasks.schedule import Build

    Build(size, tuple(tasks or TASKS), modes=modes, jobs=jobs).run(quiet=quiet)
    return tasks_dir(size)
