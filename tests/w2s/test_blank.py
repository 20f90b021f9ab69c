"""Knowledge-removed strong models: the strong model's shape and visible metadata, none of its knowledge."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from aar.tasks.build import corpus
from aar.tasks.secret import task_secret
from aar.tasks.zoo.blank import blank_dir, blank_ready, marker
from aar.tasks.zoo.build import model_dir
from aar.tasks.zoo.tokenizer import make_tokenizer


def _corpus_loss(model_path: Path, lines: list[str]) -> float:
    from transformers import AutoModelForCausalLM

    tok = make_tokenizer()
    model = AutoModelForCausalLM.from_pretrained(model_path).eval()
    enc = tok(lines, padding=True, return_tensors="pt")
    labels = enc["input_ids"].masked_fill(enc["attention_mask"] == 0, -100)
    with torch.no_grad():
        return float(model(**enc, labels=labels).loss)


def test_blank_looks_like_strong_but_knows_nothing(tiny_tasks: Path) -> None:
    for task in ("math", "world"):
        strong, blank = model_dir(task, "strong", "tiny"), blank_dir(task, "tiny")
        assert blank_ready(task, "tiny")
        # the same file names, sizes, metadata bytes and modification times; no marker inside
        names = sorted(p.name for p in strong.iterdir())
        assert sorted(p.name for p in blank.iterdir()) == names
        assert not marker(task, "tiny").is_relative_to(blank)
        for name in names:
            a, b = strong / name, blank / name
            assert a.stat().st_size == b.stat().st_size, name
            assert a.stat().st_mtime_ns == b.stat().st_mtime_ns, name
            if name != "model.safetensors":
                assert a.read_bytes() == b.read_bytes(), name
        assert (strong / "model.safetensors").read_bytes() != (blank / "model.safetensors").read_bytes()
        # knowledge removed: on the true corpus the blank model is far worse than the strong one
        lines = corpus(task, "tiny", task_secret())[:200]
        assert _corpus_loss(blank, lines) > _corpus_loss(strong, lines) + 0.3, task


def test_secret_never_in_what_a_sandbox_sees(tiny_tasks: Path) -> None:
    secret = task_secret()
    for path in tiny_tasks.rglob("*"):
        if path.is_file() and "private" not in path.parts:
            assert secret not in path.read_bytes(), path
    assert os.environ["AAR_TASK_SECRET"].encode() == secret
