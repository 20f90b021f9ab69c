"""The zoo: Hugging Face format, determinism, backend interface."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from aar.tasks.zoo import model_dir
from aarlab.w2s.backends.base import FinetuneConfig
from aarlab.w2s.backends.zoo import ZooBackend
from aarlab.w2s.jsonl import read_json


def test_models_load_with_auto_classes(tiny_tasks: Path) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    meta = read_json(tiny_tasks / "math" / "main" / "public" / "meta.json")
    for role in ("weak", "strong"):
        path = Path(meta["models"][role])
        info = json.loads((path / "aar_zoo.json").read_text())
        assert info["role"] == role and info["params"] > 0
        tok = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path)
        ids = tok("3+4=7?<yes>", return_tensors="pt")["input_ids"]
        assert tok.convert_ids_to_tokens(ids[0])[-1] == "<yes>"
        assert model(input_ids=ids).logits.shape[-1] == len(tok)
    weak = json.loads((Path(meta["models"]["weak"]) / "aar_zoo.json").read_text())
    strong = json.loads((Path(meta["models"]["strong"]) / "aar_zoo.json").read_text())
    assert strong["params"] > weak["params"] and strong["steps"] > weak["steps"]


def test_backend_interface(tiny_tasks: Path) -> None:
    backend = ZooBackend(model_dir("code", "strong", "tiny"))
    texts = ["a=1;b=a+2;print(b)>3?", "a=1;b=a+2;print(b)>4?", "x=2;print(x)>2?"]
    feats = backend.features(texts)
    assert feats.shape[0] == 3 and np.isfinite(feats).all()
    assert np.allclose(backend.features(texts), feats)  # cached path gives the same answer
    zs = backend.zero_shot(texts)
    assert zs.shape == (3,) and ((zs > 0) & (zs < 1)).all()
    pred = backend.finetune(texts, np.array([1.0, 0.0, 1.0]), FinetuneConfig(epochs=2, lr=1e-3, batch_size=2))
    p = pred.predict_proba(texts)
    assert p.shape == (3,) and not np.allclose(p, zs)
    assert np.allclose(backend.zero_shot(texts), zs)  # fine-tuning works on a copy
