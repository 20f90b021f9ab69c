"""The one idea runner.

`python -m aarlab.w2s.run_idea IDEA_DIR --data-dir D --out O --seed S [--threads T] [--mode M]`

Loads the idea, calls its `main(ctx)`, validates predictions.json (length, binary) and writes the
run manifest (`manifest.json`: seed, mode, data hash, code hash, library version, predictions hash)
next to it; exits non-zero with a clear message otherwise. `run_idea(...)` is the same thing in-process.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

from aarlab.w2s.idea import IdeaContext, IdeaError, load_config, load_main, validate_predictions
from aarlab.w2s.jsonl import read_json
from aarlab.w2s.manifest import MANIFEST, build_manifest, write_manifest

MODES = ("probe", "finetune")


def make_context(idea_dir: Path, data_dir: Path, out: Path, seed: int, threads: int = 1,
                 mode: str | None = None, config: dict | None = None, max_seconds: float | None = None,
                 weak_model: str | None = None, strong_model: str | None = None) -> IdeaContext:
    meta = read_json(Path(data_dir) / "meta.json")
    cfg = load_config(idea_dir) if config is None else config
    chosen = mode or cfg.get("mode") or meta.get("reference_mode", "probe")
    if chosen not in MODES:
        raise IdeaError(f"unknown mode {chosen!r}; choose one of {MODES}")
    models = meta.get("models", {})
    weak, strong = weak_model or models.get("weak"), strong_model or models.get("strong")
    if not weak or not strong:
        raise IdeaError(f"{data_dir}/meta.json names no weak/strong model (run `aar w2s prepare`)")
    return IdeaContext(data_dir=Path(data_dir), output_dir=Path(out), seed=seed, weak_model=weak,
                       strong_model=strong, mode=chosen, config=cfg, max_seconds=max_seconds, threads=threads)


def run_context(idea_dir: Path, ctx: IdeaContext) -> dict[str, list[int]]:
    """Run an idea with a ready context; return its validated predictions."""
    import torch

    torch.set_num_threads(max(1, ctx.threads))
    main = load_main(idea_dir)
    ctx.output_dir.mkdir(parents=True, exist_ok=True)
    pred_path = ctx.output_dir / "predictions.json"
    pred_path.unlink(missing_ok=True)
    manifest_path = ctx.output_dir / MANIFEST
    manifest_path.unlink(missing_ok=True)
    main(ctx)
    n = ctx.data.meta["n"]
    preds = validate_predictions(pred_path, n["test"], n["train_unlabel"])
    write_manifest(ctx.output_dir, build_manifest(seed=ctx.seed, mode=ctx.mode, data_dir=ctx.data_dir,
                                                  idea_dir=idea_dir, test=preds["test"]))
    return preds


def run_idea(idea_dir: str | Path, data_dir: str | Path, out: str | Path, seed: int = 0, threads: int = 1,
             mode: str | None = None, config: dict | None = None,
             max_seconds: float | None = None) -> dict[str, list[int]]:
    """In-process runner: load the idea at `idea_dir`, run it on `data_dir`, return validated predictions."""
    ctx = make_context(Path(idea_dir), Path(data_dir), Path(out), seed, threads, mode, config, max_seconds)
    return run_context(Path(idea_dir), ctx)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m aarlab.w2s.run_idea",
                                 description="Run an idea folder and validate its predictions.")
    ap.add_argument("idea_dir", type=Path)
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "1") or 1))
    ap.add_argument("--mode", choices=MODES, default=None)
    ap.add_argument("--max-seconds", type=float, default=None)
    args = ap.parse_args(argv)
    t0 = time.time()
    try:
        preds = run_idea(args.idea_dir, args.data_dir, args.out, args.seed, args.threads, args.mode,
                         max_seconds=args.max_seconds)
    except IdeaError as e:
        print(f"run_idea: error: {e}", file=sys.stderr)
        return 2
    except Exception:  # the idea itself failed: show its traceback
        traceback.print_exc()
        print("run_idea: error: the idea raised an exception (traceback above)", file=sys.stderr)
        return 1
    print(f"run_idea: ok: {len(preds['test'])} test predictions in {time.time() - t0:.1f}s "
          f"-> {args.out / 'predictions.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
