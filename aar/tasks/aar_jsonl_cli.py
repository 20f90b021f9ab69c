"""`aar w2s import-aar`: turn a published AAR dataset directory into an aar task (GPU reference setting).

With `--prepare` it also computes what `aar w2s prepare` computes for the CPU tasks: weak artifacts per
seed (the weak model's probe trained on `train_label`) and the fixed baselines (weak and strong-ceiling
accuracy) for the chosen modes. That is trusted code: it reads the private labels it just wrote.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from aar.cli_errors import CliError, one_line

if TYPE_CHECKING:
    from rich.console import Console

REFERENCE_WEAK = "Qwen/Qwen1.5-0.5B-Chat"
REFERENCE_STRONG = "Qwen/Qwen3-4B-Base"


def prepare_imported(data_dir: Path, modes: tuple[str, ...] = ("finetune",), threads: int = 1,
                     console: Console | None = None) -> dict:
    """Weak artifacts per seed + fixed baselines for an imported task's public dir; returns the baselines."""
    from aar.tasks.baseline_scores import run_scored
    from aar.tasks.private import ceiling_config, labels_for
    from aarlab.w2s.baselines import baseline_dir
    from aarlab.w2s.jsonl import read_json, write_json
    from aarlab.w2s.metrics import accuracy, mean_se
    from aarlab.w2s.weak import weak_predictions

    meta = read_json(data_dir / "meta.json")
    weak_accs = []
    for seed in meta["seeds"]:
        p_u, p_t = weak_predictions(data_dir, meta["models"]["weak"], seed)
        acc = accuracy((p_t > 0.5).astype(int), labels_for(data_dir)["test"])
        write_json(data_dir / "weak" / f"seed{seed}.json",
                   {"seed": seed, "train_unlabel": [round(float(p), 6) for p in p_u], "weak_test_acc": acc})
        weak_accs.append(acc)
    w_m, w_se = mean_se(weak_accs)
    baselines = {}
    for mode in modes:
        cfg = ceiling_config(data_dir)
        accs = [run_scored(baseline_dir("strong_ceiling"), data_dir, s, mode, cfg, threads)[0]
                for s in meta["seeds"]]
        s_m, s_se = mean_se(accs)
        baselines[mode] = {"weak_acc": w_m, "strong_acc": s_m, "weak_acc_se": w_se, "strong_acc_se": s_se}
        if console:
            console.print(f"{meta['task']} {mode}: weak {w_m:.3f}±{w_se:.3f}  ceiling {s_m:.3f}±{s_se:.3f}")
    meta["baselines"] = baselines
    meta["reference_mode"] = modes[0]
    write_json(data_dir / "meta.json", meta)
    return baselines


def import_aar_cmd(
    src: Annotated[Path, typer.Argument(help="an AAR dataset dir (train_label/train_unlabel/test.jsonl) "
                                             "or a parent of several (chat, math, code)")],
    name: Annotated[str | None, typer.Option(help="task name (default: the dataset dir's name)")] = None,
    weak: Annotated[str, typer.Option(help="weak model: HF name or path")] = REFERENCE_WEAK,
    strong: Annotated[str, typer.Option(help="strong model: HF name or path")] = REFERENCE_STRONG,
    out: Annotated[Path | None, typer.Option(help="tasks root (default: aar's tasks dir for --size)")] = None,
    size: Annotated[str, typer.Option(help="size label recorded in meta.json / default tasks dir")] = "full",
    seeds: Annotated[str, typer.Option(help="comma-separated seeds")] = "0,1,2",
    force: Annotated[bool, typer.Option(help="overwrite an existing task of that name")] = False,
    prepare: Annotated[bool, typer.Option(help="also compute weak artifacts and fixed baselines")] = False,
    mode: Annotated[list[str] | None, typer.Option(help="baseline mode(s) for --prepare")] = None,
    threads: Annotated[int, typer.Option(help="torch threads", min=1)] = 1,
) -> None:
    """Import the published AAR W2S data (labeled_data/<dataset>) as an aar task."""
    try:
        seed_list = [int(s) for s in seeds.split(",") if s.strip()]
    except ValueError as e:
        raise CliError(f"--seeds must be comma-separated integers, not {seeds!r}") from e
    if not seed_list:
        raise CliError("--seeds names no seed")
    for m in mode or []:
        if m not in ("probe", "finetune"):
            raise CliError(f"--mode must be probe or finetune, not {m!r}")
    if size not in ("full", "tiny"):
        raise CliError(f"--size must be full or tiny, not {size!r}")
    if not src.exists():
        raise CliError(f"{src}: no such file or folder")

    from rich.console import Console

    from aar.paths import tasks_dir
    from aar.tasks.aar_jsonl import AarFormatError, dataset_dirs, import_aar, read_dataset

    console = Console()
    root = out or tasks_dir(size)
    try:
        dirs = dataset_dirs(src)
        if name and len(dirs) > 1:
            raise AarFormatError(f"{src} holds {len(dirs)} datasets ({', '.join(d.name for d in dirs)}); "
                                 "--name needs a single dataset dir")
        for d in dirs:  # every dataset is read (and so checked) and its name free before anything is written
            if (root / (name or d.name) / "main").exists() and not force:
                raise FileExistsError(f"{root / (name or d.name) / 'main'} exists (--force overwrites it)")
            read_dataset(d)
        for d in dirs:
            t0 = time.time()
            task_root = root / (name or d.name)
            existed = task_root.exists()
            pub = import_aar(d, name or d.name, root, weak, strong, seed_list, size, force)
            console.print(f"imported {d} -> {pub.parent} ({time.time() - t0:.1f}s)")
            if prepare:
                import torch

                torch.set_num_threads(max(1, threads))
                try:
                    prepare_imported(pub, tuple(mode or ["finetune"]), threads, console)
                except Exception as e:  # a model that cannot be loaded, ...: leave nothing half-made
                    if not existed:
                        shutil.rmtree(task_root, ignore_errors=True)
                    raise CliError(f"preparing {pub.parent}: {type(e).__name__}: {one_line(e)}") from e
    except (AarFormatError, FileExistsError, OSError) as e:
        raise CliError(str(e)) from e
