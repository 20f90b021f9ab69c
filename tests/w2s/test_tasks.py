"""Task files: deterministic, disjoint splits, private labels kept out of public files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aar.tasks import DRAWS, TASKS, build_tasks, corpus
from aar.tasks.private import labels_for, public_mask_for
from aarlab.w2s.jsonl import read_json, read_jsonl


def _texts(pub: Path, split: str) -> list[str]:
    return [r["text"] for r in read_jsonl(pub / f"{split}.jsonl")]


@pytest.mark.parametrize("task", TASKS)
def test_splits_disjoint_and_balanced(tiny_tasks: Path, task: str) -> None:
    seen: dict[str, str] = {}
    for draw in DRAWS:
        pub = tiny_tasks / task / draw / "public"
        for split in ("train_label", "train_unlabel", "test"):
            for t in _texts(pub, split):
                if split == "train_label" and draw == "heldout":
                    continue  # train_label is shared by both draws
                assert t not in seen, f"{t!r} in {seen.get(t)} and {draw}/{split}"
                seen[t] = f"{draw}/{split}"
                assert t.endswith("?")
        labels = labels_for(pub)
        for split, ys in labels.items():
            assert set(ys) == {0, 1}
            assert abs(sum(ys) / len(ys) - 0.5) <= 0.01, split
    assert _texts(tiny_tasks / task / "main" / "public", "train_label") == _texts(
        tiny_tasks / task / "heldout" / "public", "train_label")


def test_build_is_deterministic(tiny_tasks: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AAR_CACHE", str(tmp_path))
    root = build_tasks("tiny")
    for task in TASKS:
        for draw in DRAWS:
            for rel in ("public/train_label.jsonl", "public/train_unlabel.jsonl", "public/test.jsonl",
                        "private/labels.json", "private/test_public_mask.json"):
                a = (root / task / draw / rel).read_bytes()
                b = (tiny_tasks / task / draw / rel).read_bytes()
                assert a == b, f"{task}/{draw}/{rel} differs between builds"
    assert corpus("math", "tiny") == corpus("math", "tiny")


@pytest.mark.parametrize("task", TASKS)
def test_private_labels_never_public(tiny_tasks: Path, task: str) -> None:
    for draw in DRAWS:
        pub = tiny_tasks / task / draw / "public"
        for split in ("train_unlabel", "test"):
            for row in read_jsonl(pub / f"{split}.jsonl"):
                assert set(row) == {"id", "text"}
        for path in pub.rglob("*"):
            assert "private" not in path.parts[len(pub.parts) - 1 :]
            if path.is_file():
                assert path.name not in ("labels.json", "test_public_mask.json")
        meta = read_json(pub / "meta.json")
        assert "labels" not in json.dumps(meta)
        mask = public_mask_for(pub)
        assert len(mask) == meta["n"]["test"] and sum(mask) == len(mask) // 2


def test_no_surface_cue_in_length(tiny_tasks: Path) -> None:
    """Wrong candidates look like right ones: text length alone does not separate the classes."""
    for task in TASKS:
        pub = tiny_tasks / task / "main" / "public"
        rows = read_jsonl(pub / "train_label.jsonl")
        mean = {y: sum(len(r["text"]) for r in rows if r["label"] == y) / sum(r["label"] == y for r in rows)
                for y in (0, 1)}
        assert abs(mean[0] - mean[1]) < 1.5, (task, mean)


def test_corpus_never_holds_a_verification_text(tiny_tasks: Path) -> None:
    for task in TASKS:
        lines = set(corpus(task, "tiny"))
        pub = tiny_tasks / task / "main" / "public"
        assert not lines & set(_texts(pub, "test"))


def _math_chain_true(text: str) -> bool:
    parts = text.rstrip("?").split("=")
    return all(eval(p) == eval(parts[0]) for p in parts[1:])  # noqa: S307 - digits and + - * only


def _code_text_true(text: str) -> bool:
    source, trace, out = text.rstrip("?").split(">")
    stmts, target = source.split(";")[:-1], source.split(";")[-1][len("print(") : -1]
    env: dict[str, int] = {}
    exec(";".join(stmts), {}, env)  # noqa: S102 - generated arithmetic
    values = [env[s.split("=")[0]] for s in stmts]
    return [int(v) for v in trace.split(",")] == values and int(out) == env[target]


@pytest.mark.parametrize(("task", "check"), [("math", _math_chain_true), ("code", _code_text_true)])
def test_labels_match_ground_truth(tiny_tasks: Path, task: str, check) -> None:
    """Every item's label is what evaluating (math) or executing (code) the text says."""
    for draw in DRAWS:
        pub = tiny_tasks / task / draw / "public"
        labels = labels_for(pub)
        for split in ("train_unlabel", "test"):
            for row, y in zip(read_jsonl(pub / f"{split}.jsonl"), labels[split], strict=True):
                assert check(row["text"]) == bool(y), row["text"]
        for row in read_jsonl(pub / "train_label.jsonl"):
            assert check(row["text"]) == bool(row["label"]), row["text"]


def test_world_labels_match_the_world(tiny_tasks: Path) -> None:
    from aar.tasks.registry import generator

    world = generator("world", "tiny")
    pub = tiny_tasks / "world" / "main" / "public"
    for row, y in zip(read_jsonl(pub / "test.jsonl"), labels_for(pub)["test"], strict=True):
        facts, claim = row["text"].rstrip("?").split(":")
        (a, fa), (b, fb) = (f.replace("#", " ").split(" ") for f in facts.split(","))
        if "#" in facts:
            truth = fa == world.town[a] and fb == world.town[b] and (claim == "same") == (fa == fb)
        else:
            older = a if world.age[a] > world.age[b] else b
            truth = int(fa) == world.age[a] and int(fb) == world.age[b] and claim.split(">")[0] == older
        assert truth == bool(y), row["text"]


@pytest.mark.parametrize("task", TASKS)
def test_no_bag_of_characters_cue(task: str) -> None:
    """Character counts and length, fitted on 3,000 true labels, stay near chance on fresh items."""
    import random

    import numpy as np

    from aar.tasks.registry import generator
    from aarlab.w2s.probe import ProbeConfig, fit_probe

    gen = generator(task, "tiny")
    rng = random.Random(7)
    labels = [i % 2 for i in range(4000)]
    texts = [gen.item(rng, y) for y in labels]
    alphabet = sorted(set("".join(texts)))
    x = np.array([[t.count(c) for c in alphabet] + [len(t)] for t in texts], dtype=np.float64)
    y = np.array(labels, dtype=np.float64)
    head = fit_probe(x[:3000], y[:3000], ProbeConfig(epochs=300))
    acc = float(((head.predict_proba(x[3000:]) > 0.5) == y[3000:]).mean())
    assert acc < 0.62, f"{task}: character counts alone reach {acc:.3f}"


def test_a_new_secret_drops_the_predictions_made_on_the_old_items(tmp_path: Path) -> None:
    """Ceiling and weak test predictions belong to the items of the secret that drew them: a rebuild under
    another secret (new items, new labels) must not leave them to grade the new draw."""
    from aar.tasks.build import DERIVED_PRIVATE, build_task

    build_task("math", "tiny", tmp_path, secret=b"first secret")
    priv = tmp_path / "math" / "heldout" / "private"
    labels = (priv / "labels.json").read_bytes()
    for name in DERIVED_PRIVATE:
        (priv / name).write_text(json.dumps({"probe": {"0": [1, 0]}}))

    build_task("math", "tiny", tmp_path, secret=b"first secret")
    assert all((priv / name).exists() for name in DERIVED_PRIVATE)  # same items: still valid

    build_task("math", "tiny", tmp_path, secret=b"second secret")
    assert (priv / "labels.json").read_bytes() != labels
    assert not any((priv / name).exists() for name in DERIVED_PRIVATE)
