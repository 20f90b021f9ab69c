"""Generation of the task files (both draws) and the pretraining corpus.

Every private choice is drawn from a stream keyed by the install's task secret (`aar.tasks.secret`):
the label order of each split, each item's text (one stream per item, so recovering one stream's
state says nothing about another) and the public half of `test`. The pretraining corpus of math
and code is public (it holds only knowledge); the world's facts, and so its corpus, are keyed.
"""

from __future__ import annotations

from pathlib import Path

from aar.paths import tasks_dir
from aar.tasks.common import rng_for
from aar.tasks.private import CEILING_PREDICTIONS, WEAK_PREDICTIONS
from aar.tasks.registry import DRAWS, generator
from aar.tasks.secret import fingerprint, keyed_rng, task_secret
from aar.tasks.sizes import size_spec
from aarlab.w2s.jsonl import read_json, write_json, write_jsonl

PREFIX = {"train_label": "l", "train_unlabel": "u", "test": "t"}
# private files `prepare` derives from a draw's items: valid only under the secret that drew them
DERIVED_PRIVATE = (CEILING_PREDICTIONS, WEAK_PREDICTIONS)


def _draw_items(task: str, size: str, draw: str, split: str, n: int, seen: set[str],
                secret: bytes) -> list[tuple[str, int]]:
    """`n` balanced items, none of whose texts is in `seen` (which it extends)."""
    gen = generator(task, size, secret)
    labels = [i % 2 for i in range(n)]
    keyed_rng(task, size, draw, split, "labels", secret=secret).shuffle(labels)
    out: list[tuple[str, int]] = []
    for i, label in enumerate(labels):
        rng = keyed_rng(task, size, draw, split, "item", i, secret=secret)
        for _ in range(1000):
            text = gen.item(rng, label)
            if text not in seen:
                break
        else:
            raise RuntimeError(f"{task}/{split}: could not draw {n} distinct items")
        seen.add(text)
        out.append((text, label))
    return out


def corpus(task: str, size: str, secret: bytes | None = None) -> list[str]:
    """The pretraining corpus of a task. Its lines never equal a verification text."""
    gen = generator(task, size, secret)
    rng = rng_for(task, size, "corpus")
    return [gen.corpus_line(rng) for _ in range(size_spec(size).corpus_lines)]


def public_mask(task: str, size: str, draw: str, n_test: int, secret: bytes) -> list[bool]:
    rng = keyed_rng(task, size, draw, "public_mask", secret=secret)
    public_idx = set(rng.sample(range(n_test), n_test // 2))
    return [i in public_idx for i in range(n_test)]


def build_task(task: str, size: str, root: Path, secret: bytes | None = None) -> None:
    secret = task_secret(create=True) if secret is None else secret
    spec = size_spec(size)
    seen: set[str] = set()
    train_label = _draw_items(task, size, "shared", "train_label", spec.n["train_label"], seen, secret)
    for draw in DRAWS:
        base = root / task / draw
        splits = {"train_label": train_label}
        for split in ("train_unlabel", "test"):
            splits[split] = _draw_items(task, size, draw, split, spec.n[split], seen, secret)
        pub, priv = base / "public", base / "private"
        write_jsonl(pub / "train_label.jsonl",
                    ({"id": f"{PREFIX['train_label']}{i}", "text": t, "label": y}
                     for i, (t, y) in enumerate(splits["train_label"])))
        for split in ("train_unlabel", "test"):
            write_jsonl(pub / f"{split}.jsonl",
                        ({"id": f"{PREFIX[split]}{i}", "text": t} for i, (t, _) in enumerate(splits[split])))
        write_json(priv / "labels.json", {s: [y for _, y in splits[s]] for s in ("train_unlabel", "test")})
        write_json(priv / "test_public_mask.json", public_mask(task, size, draw, spec.n["test"], secret))
        priv.chmod(0o700)
        meta = {
            "task": task, "draw": draw, "size": size,
            "description": generator(task, size, secret).description,
            "n": dict(spec.n), "models": {}, "seeds": list(spec.seeds), "reference_mode": "probe",
            "baselines": {}, "secret": fingerprint(secret),
        }
        meta_path = pub / "meta.json"
        old = read_json(meta_path) if meta_path.exists() else {}
        if old.get("secret") == meta["secret"]:  # keep models/baselines written by `prepare` under it
            meta["models"], meta["baselines"] = old.get("models", {}), old.get("baselines", {})
        else:  # predictions on the items of another secret (or of unknown origin) would grade the new ones
            for name in DERIVED_PRIVATE:
                (priv / name).unlink(missing_ok=True)
        write_json(meta_path, meta)


def build_tasks(size: str = "full", tasks: tuple[str, ...] | None = None) -> Path:
    """Write every task's files under `tasks_dir(size)` and return that root."""
    from aar.tasks.registry import TASKS

    root = tasks_dir(size)
    secret = task_secret(create=True)
    for task in tasks or TASKS:
        build_task(task, size, root, secret)
    return root
