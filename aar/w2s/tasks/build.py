"""Deterministic generation of the task files (both draws) and the pretraining corpus."""

from __future__ import annotations

from pathlib import Path

from aar.paths import tasks_dir
from aar.w2s.sizes import size_spec
from aar.w2s.tasks.common import rng_for
from aar.w2s.tasks.jsonl import write_json, write_jsonl
from aar.w2s.tasks.registry import DRAWS, TASKS, generator


def _draw_items(task: str, size: str, draw: str, split: str, n: int, seen: set[str]) -> list[tuple[str, int]]:
    """`n` balanced items, none of whose texts is in `seen` (which it extends)."""
    gen = generator(task, size)
    rng = rng_for(task, size, draw, split)
    labels = [i % 2 for i in range(n)]
    rng.shuffle(labels)
    out: list[tuple[str, int]] = []
    for label in labels:
        for _ in range(1000):
            text = gen.item(rng, label)
            if text not in seen:
                break
        else:
            raise RuntimeError(f"{task}/{split}: could not draw {n} distinct items")
        seen.add(text)
        out.append((text, label))
    return out


def corpus(task: str, size: str) -> list[str]:
    """The pretraining corpus of a task. Its lines never equal a verification text."""
    gen = generator(task, size)
    rng = rng_for(task, size, "corpus")
    return [gen.corpus_line(rng) for _ in range(size_spec(size).corpus_lines)]


def build_task(task: str, size: str, root: Path) -> None:
    spec = size_spec(size)
    seen: set[str] = set()
    train_label = _draw_items(task, size, "shared", "train_label", spec.n["train_label"], seen)
    for draw in DRAWS:
        base = root / task / draw
        splits = {"train_label": train_label}
        for split in ("train_unlabel", "test"):
            splits[split] = _draw_items(task, size, draw, split, spec.n[split], seen)
        prefix = {"train_label": "l", "train_unlabel": "u", "test": "t"}
        pub, priv = base / "public", base / "private"
        write_jsonl(pub / "train_label.jsonl",
                    ({"id": f"{prefix['train_label']}{i}", "text": t, "label": y}
                     for i, (t, y) in enumerate(splits["train_label"])))
        for split in ("train_unlabel", "test"):
            write_jsonl(pub / f"{split}.jsonl",
                        ({"id": f"{prefix[split]}{i}", "text": t} for i, (t, _) in enumerate(splits[split])))
        write_json(priv / "labels.json", {s: [y for _, y in splits[s]] for s in ("train_unlabel", "test")})
        mask_rng = rng_for(task, size, draw, "public_mask")
        n_test = spec.n["test"]
        public_idx = set(mask_rng.sample(range(n_test), n_test // 2))
        write_json(priv / "test_public_mask.json", [i in public_idx for i in range(n_test)])
        meta = {
            "task": task, "draw": draw, "size": size, "description": generator(task, size).description,
            "n": dict(spec.n), "models": {}, "seeds": list(spec.seeds), "reference_mode": "probe",
            "baselines": {},
        }
        meta_path = pub / "meta.json"
        if meta_path.exists():  # keep models/baselines written by `prepare`
            from aar.w2s.tasks.jsonl import read_json

            old = read_json(meta_path)
            meta["models"], meta["baselines"] = old.get("models", {}), old.get("baselines", {})
        write_json(meta_path, meta)


def build_tasks(size: str = "full", tasks: tuple[str, ...] | None = None) -> Path:
    """Write every task's files under `tasks_dir(size)` and return that root."""
    root = tasks_dir(size)
    for task in tasks or TASKS:
        build_task(task, size, root)
    return root
