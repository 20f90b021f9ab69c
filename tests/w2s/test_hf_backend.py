"""The `hf` backend on tiny causal LMs created locally (nothing is downloaded)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from tiny_hf import HIDDEN, make_tiny_model, toy_task  # noqa: E402

from aarlab.w2s.backends import load_backend  # noqa: E402
from aarlab.w2s.backends.base import FinetuneConfig  # noqa: E402
from aarlab.w2s.backends.hf import HFBackend, PromptFormat, resolve_dtype  # noqa: E402
from aarlab.w2s.losses import ce_loss  # noqa: E402

# 30 epochs: over seeds 0-2 LoRA reaches 0.86-0.94 test accuracy (15 epochs: 0.50-0.86, seed-sensitive)
LORA = FinetuneConfig(epochs=30, lr=1e-2, batch_size=16, seed=0, lora_rank=8)
FULL = FinetuneConfig(epochs=15, lr=1e-2, batch_size=16, seed=0)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.set_num_threads(1)
    return make_tiny_model(tmp_path_factory.mktemp("tiny_hf") / "llama")


@pytest.fixture(scope="module")
def backend(model_dir: Path) -> HFBackend:
    b = load_backend(str(model_dir))
    assert isinstance(b, HFBackend)
    return b


@pytest.fixture(scope="module")
def data() -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    tr, ytr = toy_task(96, seed=0)
    te, yte = toy_task(64, seed=1)
    return tr, np.array(ytr), te, np.array(yte)


def acc(p: np.ndarray, y: np.ndarray) -> float:
    return float(((p > 0.5).astype(int) == y).mean())


def test_loads_by_path_on_cpu_float32(backend: HFBackend) -> None:
    assert backend.name == "hf" and backend.device == "cpu"
    assert backend.model.dtype == torch.float32
    assert backend.tok.convert_ids_to_tokens([backend.yes_id, backend.no_id]) == ["ĠYes", "ĠNo"]
    assert backend.tok.padding_side == "left"


def test_zero_shot_is_probability_and_padding_invariant(backend: HFBackend, data) -> None:
    texts = data[0][:10]
    assert len({len(backend.tok.tokenize(t)) for t in texts}) > 1  # the batch really is padded
    p = backend.zero_shot(texts)
    assert p.shape == (10,) and p.dtype == np.float64
    assert np.all((p > 0) & (p < 1))
    single = np.array([backend.zero_shot([t])[0] for t in texts])
    np.testing.assert_allclose(p, single, atol=1e-5)
    assert backend.zero_shot([]).shape == (0,)


def test_features_last_token_hidden_state(backend: HFBackend, data) -> None:
    texts = data[0][:7]
    x = backend.features(texts)
    assert x.shape == (7, HIDDEN) and x.dtype == np.float32 and np.isfinite(x).all()
    np.testing.assert_allclose(x[3], backend.features([texts[3]])[0], atol=1e-5)
    assert backend.features([]).shape == (0, HIDDEN)


def test_lora_finetune_learns_and_only_trains_adapters(backend: HFBackend, data) -> None:
    tr, ytr, te, yte = data
    before = {k: v.clone() for k, v in backend.model.state_dict().items()}
    zero = backend.zero_shot(te)
    pred = backend.finetune(tr, ytr.astype(float), LORA)
    assert acc(pred.predict_proba(te), yte) >= 0.75 > acc(zero, yte) + 0.2
    named = dict(pred.model.named_parameters())
    lora_b = [p for k, p in named.items() if "lora_B" in k]
    assert lora_b and all(p.requires_grad for p in lora_b)
    assert any(p.abs().sum() > 0 for p in lora_b)  # lora_B starts at zero: it moved
    for k, p in named.items():
        if "lora_" not in k:
            assert not p.requires_grad, k
    base_after = {k.replace("base_model.model.", "").replace(".base_layer", ""): v
                  for k, v in pred.model.state_dict().items() if "lora_" not in k}
    for k, v in before.items():
        assert torch.equal(base_after[k], v), k  # base weights frozen in the trained copy
        assert torch.equal(backend.model.state_dict()[k], v), k  # and the backend's model untouched
    np.testing.assert_allclose(backend.zero_shot(te), zero)


def test_full_finetune_learns(backend: HFBackend, data) -> None:
    tr, ytr, te, yte = data
    pred = backend.finetune(tr, ytr.astype(float), FULL)
    assert acc(pred.predict_proba(te), yte) >= 0.9
    assert all(p.requires_grad for p in pred.model.parameters())
    assert not any(p.requires_grad for p in backend.model.parameters())


def test_finetune_is_deterministic_under_a_seed(backend: HFBackend, data) -> None:
    tr, ytr, te, _ = data
    cfg = FinetuneConfig(epochs=2, lr=1e-2, batch_size=16, seed=3, lora_rank=4)
    a = backend.finetune(tr, ytr.astype(float), cfg).predict_proba(te)
    b = backend.finetune(tr, ytr.astype(float), cfg).predict_proba(te)
    other = FinetuneConfig(**{**cfg.__dict__, "seed": 4})
    c = backend.finetune(tr, ytr.astype(float), other).predict_proba(te)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_weights_and_custom_loss_are_used(backend: HFBackend, data) -> None:
    tr, ytr, te, yte = data
    flip = np.random.default_rng(0).permutation(len(tr)) < len(tr) // 2
    noisy = np.where(flip, 1 - ytr, ytr).astype(float)  # half the targets are wrong ...
    weights = np.where(flip, 0.0, 1.0)  # ... and weighted out
    seen: list[float] = []

    def loss(logits: torch.Tensor, targets: torch.Tensor, progress: float, weights=None) -> torch.Tensor:
        assert logits.shape == (len(targets), 2) and weights is not None
        seen.append(progress)
        return ce_loss(logits, targets, progress, weights=weights)

    pred = backend.finetune(tr, noisy, FULL, loss=loss, weights=weights)
    assert acc(pred.predict_proba(te), yte) >= 0.8
    assert seen[0] == 0.0 and seen == sorted(seen) and seen[-1] < 1.0
    assert len(seen) == FULL.epochs * 6  # 96 texts / batch 16
    unweighted = backend.finetune(tr, noisy, FULL)  # the noisy half is pure noise when it counts
    assert acc(unweighted.predict_proba(te), yte) < 0.7


def test_max_seconds_stops_training(backend: HFBackend, data) -> None:
    tr, ytr, _, _ = data
    calls: list[float] = []

    def loss(logits: torch.Tensor, targets: torch.Tensor, progress: float) -> torch.Tensor:
        calls.append(progress)
        return ce_loss(logits, targets)

    cfg = FinetuneConfig(epochs=50, lr=1e-3, batch_size=8, seed=0, lora_rank=2, max_seconds=0.0)
    backend.finetune(tr, ytr.astype(float), cfg, loss=loss)
    assert len(calls) == 1


def test_bad_inputs(backend: HFBackend) -> None:
    with pytest.raises(ValueError, match="at least one"):
        backend.finetune([], np.zeros(0), LORA)
    with pytest.raises(ValueError, match="same length"):
        backend.finetune(["a red cat?", "a blue dog?"], np.zeros(3), LORA)
    with pytest.raises(ValueError, match="unknown dtype"):
        resolve_dtype("float8", "cpu")
    with pytest.raises(ValueError, match="same token"):
        HFBackend(backend.spec, fmt=PromptFormat(yes=" Yes", no=" Yesterday"))


def test_dtype_defaults() -> None:
    assert resolve_dtype(None, "cpu") == torch.float32
    assert resolve_dtype(None, "cuda") == torch.bfloat16
    assert resolve_dtype("fp16", "cpu") == torch.float16


def test_qwen2_model_and_chat_template(tmp_path: Path, data) -> None:
    path = make_tiny_model(tmp_path / "qwen2", arch="qwen2")
    chat = "{% for m in messages %}<s>{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}assistant:"
    b = HFBackend(path, fmt=PromptFormat(chat=True))
    b.tok.chat_template = chat
    assert b.model.config.model_type == "qwen2"
    assert b.runner.prompt("x").startswith("<s>user: x\n") and b.runner.prompt("x").endswith("assistant:")
    p = b.zero_shot(data[0][:4])
    assert p.shape == (4,) and np.all((p > 0) & (p < 1))


def test_gpu_settings_bf16_and_gradient_checkpointing_run_on_cpu(model_dir: Path, data, monkeypatch) -> None:
    """The code path a GPU takes (bf16 weights, gradient checkpointing, LoRA rank from the environment)."""
    monkeypatch.setenv("AAR_HF_DTYPE", "bfloat16")
    monkeypatch.setenv("AAR_HF_LORA_RANK", "4")
    b = HFBackend(model_dir, gradient_checkpointing=True)
    assert b.model.dtype == torch.bfloat16 and b.default_lora_rank == 4
    tr, ytr, te, _ = data
    pred = b.finetune(tr[:32], ytr[:32].astype(float), FinetuneConfig(epochs=1, lr=1e-2, batch_size=16))
    assert any("lora_B" in k and p.abs().sum() > 0 for k, p in pred.model.named_parameters())
    p = pred.predict_proba(te[:8])
    assert p.shape == (8,) and np.all((p > 0) & (p < 1))
    assert b.features(te[:3]).dtype == np.float32


def test_long_texts_keep_the_question_and_both_ends(model_dir: Path, monkeypatch) -> None:
    """Past max_length the middle of the text goes; the template, the text's start and its end stay."""
    monkeypatch.setenv("AAR_HF_MAX_LENGTH", "48")
    b = HFBackend(model_dir)
    assert b.max_length == 48 and b.truncation == "middle"
    long = "gold horse " + " ".join(["the small dog was near"] * 40) + " red cat?"
    short = "a red cat?"
    ids, mask = b.runner.encode([long, short])
    assert ids.shape[1] <= 48 and int(mask[0].sum()) <= 48 and int(mask[1].sum()) < 20
    seen = b.tok.decode(ids[0][mask[0].bool()])
    assert seen.startswith("gold horse") and "[...]" in seen
    assert seen.endswith("red cat?\nIs the above correct? Answer Yes or No.\nAnswer:")
    assert b.tok.decode(ids[1][mask[1].bool()]).startswith("a red cat?")  # short rows untouched
    p = b.zero_shot([long, short])
    np.testing.assert_allclose(p, [b.zero_shot([long])[0], b.zero_shot([short])[0]], atol=1e-5)
    assert HFBackend(model_dir, max_length=1000).max_length == 128  # the model's max_position_embeddings


def test_long_texts_can_be_refused(model_dir: Path) -> None:
    b = HFBackend(model_dir, max_length=48, truncation="error")
    with pytest.raises(ValueError, match="passes max_length 48"):
        b.zero_shot(["the small dog was near " * 40])
    assert b.zero_shot(["a red cat?"]).shape == (1,)
    with pytest.raises(ValueError, match="no room for the text"):
        HFBackend(model_dir, max_length=12).zero_shot(["the small dog was near " * 40])
    with pytest.raises(ValueError, match="unknown truncation"):
        HFBackend(model_dir, truncation="left")
