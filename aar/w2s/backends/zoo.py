"""The `zoo` backend: a model pretrained by `aar zoo build` (a directory with `aar_zoo.json`).

Probe features of a text (which ends with `?`, where the judgement token would follow):
the last-layer hidden state at the final position, the log-probability of each of the last K
tokens and whether each was the model's top guess ("surprise" features: how expected the
stated answer was), and the margin logit(<yes>) - logit(<no>).
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from aar.paths import cache_dir
from aar.w2s.backends.base import FinetuneConfig, LossFn, ModelBackend
from aar.w2s.hfquiet import quiet_hf

SURPRISE_K = 8
BATCH = 256


def is_zoo_model(spec: str | Path) -> bool:
    return (Path(spec) / "aar_zoo.json").is_file()


class _Scorer:
    """Runs a causal LM over texts and exposes last-position logits, hidden states and token log-probs."""

    def __init__(self, model: torch.nn.Module, tok: AutoTokenizer, yes_id: int, no_id: int) -> None:
        self.model, self.tok, self.yes_id, self.no_id = model, tok, yes_id, no_id

    def batch(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        enc = self.tok(list(texts), return_tensors="pt", padding=True)
        return enc["input_ids"], enc["attention_mask"]

    def forward(self, ids: torch.Tensor, mask: torch.Tensor, hidden: bool = False):
        return self.model(input_ids=ids, attention_mask=mask, output_hidden_states=hidden)

    def label_logits(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        out = self.forward(ids, mask)
        last = mask.sum(dim=1) - 1
        logits = out.logits[torch.arange(ids.shape[0]), last]
        return logits[:, [self.no_id, self.yes_id]]


class ZooPredictor:
    def __init__(self, scorer: _Scorer) -> None:
        self.scorer = scorer

    @torch.no_grad()
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        self.scorer.model.eval()
        out = []
        for i in range(0, len(texts), BATCH):
            ids, mask = self.scorer.batch(texts[i : i + BATCH])
            out.append(torch.softmax(self.scorer.label_logits(ids, mask), dim=1)[:, 1])
        return torch.cat(out).numpy().astype(np.float64) if out else np.zeros(0)


class ZooBackend(ModelBackend):
    name = "zoo"

    def __init__(self, path: str | Path) -> None:
        quiet_hf()
        self.path = Path(path).resolve()
        self.info = json.loads((self.path / "aar_zoo.json").read_text())
        self.tok = AutoTokenizer.from_pretrained(self.path)
        self.model = AutoModelForCausalLM.from_pretrained(self.path).eval()
        labels = self.info["label_tokens"]
        self.yes_id = self.tok.convert_tokens_to_ids(labels["yes"])
        self.no_id = self.tok.convert_tokens_to_ids(labels["no"])
        self.scorer = _Scorer(self.model, self.tok, self.yes_id, self.no_id)

    # ---- probe features -------------------------------------------------------------------
    def _cache_file(self, texts: Sequence[str], kind: str = "features") -> Path:
        h = hashlib.sha256()
        weights = self.path / "model.safetensors"
        h.update(f"v1|{kind}|{self.path}|{weights.stat().st_mtime_ns if weights.exists() else 0}".encode())
        for t in texts:
            h.update(t.encode() + b"\0")
        return cache_dir() / "features" / f"{h.hexdigest()[:32]}.npy"

    def features(self, texts: Sequence[str]) -> np.ndarray:
        return self._cached(texts, "features", self._features)

    def _cached(self, texts: Sequence[str], kind: str,
                compute: Callable[[Sequence[str]], np.ndarray]) -> np.ndarray:
        """`compute(texts)`, cached on disk per (model, kind, texts) when the cache dir is writable."""
        path = self._cache_file(texts, kind)
        try:
            if path.exists():
                return np.load(path)
        except (OSError, ValueError):
            pass
        feats = compute(texts)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{time.time_ns()}.tmp.npy")
            np.save(tmp, feats)
            tmp.replace(path)
        except OSError:
            pass  # read-only cache (e.g. inside a sandbox): just recompute next time
        return feats

    @torch.no_grad()
    def _features(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        for i in range(0, len(texts), BATCH):
            ids, mask = self.scorer.batch(texts[i : i + BATCH])
            out = self.scorer.forward(ids, mask, hidden=True)
            n = ids.shape[0]
            last = mask.sum(dim=1) - 1
            ar = torch.arange(n)
            hid = out.hidden_states[-1][ar, last]
            logp = torch.log_softmax(out.logits[:, :-1], dim=-1)
            tok_lp = logp.gather(2, ids[:, 1:, None])[..., 0]  # log p(token t | < t), positions 1..
            top = (logp.argmax(dim=-1) == ids[:, 1:]).float()
            lp_feats = torch.zeros(n, SURPRISE_K)
            top_feats = torch.zeros(n, SURPRISE_K)
            for r in range(n):
                end = int(last[r])  # tokens 1..end are predicted at rows 0..end-1
                start = max(0, end - SURPRISE_K)
                k = end - start
                lp_feats[r, SURPRISE_K - k :] = tok_lp[r, start:end]
                top_feats[r, SURPRISE_K - k :] = top[r, start:end]
            lab = out.logits[ar, last][:, [self.no_id, self.yes_id]]
            margin = (lab[:, 1] - lab[:, 0])[:, None]
            rows.append(torch.cat([hid, lp_feats, top_feats, margin], dim=1))
        return torch.cat(rows).numpy().astype(np.float32)

    # ---- zero-shot --------------------------------------------------------------------------
    def zero_shot(self, texts: Sequence[str]) -> np.ndarray:
        return self._cached(texts, "zero_shot", ZooPredictor(self.scorer).predict_proba)

    # ---- fine-tuning ------------------------------------------------------------------------
    def finetune(self, texts: Sequence[str], targets: np.ndarray, cfg: FinetuneConfig,
                 loss: LossFn | None = None, weights: np.ndarray | None = None) -> ZooPredictor:
        """Fine-tune a copy of the whole model; the classifier is the <no>/<yes> logits after the text."""
        from aar.w2s.losses import ce_loss

        torch.manual_seed(cfg.seed)
        model = copy.deepcopy(self.model).train()
        scorer = _Scorer(model, self.tok, self.yes_id, self.no_id)
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        t = torch.as_tensor(np.asarray(targets, dtype=np.float32))
        w = None if weights is None else torch.as_tensor(np.asarray(weights, dtype=np.float32))
        loss_fn = loss or ce_loss
        n = len(texts)
        gen = torch.Generator().manual_seed(cfg.seed)
        steps_per_epoch = max(1, (n + cfg.batch_size - 1) // cfg.batch_size)
        total = steps_per_epoch * cfg.epochs
        step, t0 = 0, time.time()
        for _ in range(cfg.epochs):
            order = torch.randperm(n, generator=gen)
            for b in range(steps_per_epoch):
                idx = order[b * cfg.batch_size : (b + 1) * cfg.batch_size]
                if len(idx) == 0:
                    continue
                ids, mask = scorer.batch([texts[i] for i in idx.tolist()])
                logits = scorer.label_logits(ids, mask)
                progress = step / max(1, total)
                if w is not None:
                    value = loss_fn(logits, t[idx], progress, weights=w[idx])
                else:
                    value = loss_fn(logits, t[idx], progress)
                opt.zero_grad(set_to_none=True)
                value.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                step += 1
                if cfg.max_seconds is not None and time.time() - t0 > cfg.max_seconds:
                    break
            if cfg.max_seconds is not None and time.time() - t0 > cfg.max_seconds:
                break
        model.eval()
        return ZooPredictor(scorer)
