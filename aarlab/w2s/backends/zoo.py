"""The `zoo` backend: a model pretrained by `aar zoo build` (a directory with `aar_zoo.json`).

Probe features of a text (which ends with `?`, where the judgement token would follow):
the last-layer hidden state at the final position; "surprise" features, i.e. how expected each
stated token was: the K lowest token log-probs of the text in increasing order, the fraction of
tokens that were not the model's top guess, the mean token log-prob, the log-probs of the last K
tokens; and the margin logit(<yes>) - logit(<no>). Sorting makes the features independent of
where in a chain or trace the error sits; a measured comparison with plain windows of 8 and 32
tokens is in aar/tasks/README.md.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from aarlab.paths import cache_dir, feature_cache_dirs
from aarlab.w2s.backends.base import FinetuneConfig, LossFn, ModelBackend
from aarlab.w2s.backends.train_loop import train_classifier
from aarlab.w2s.hfquiet import quiet_hf
from aarlab.w2s.probe import ProbeHead

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

SURPRISE_K = 8  # the K most surprising tokens of a text
WINDOW_K = 8  # and the log-probs of its last K tokens
HEAD_LR_MULT = 10.0  # the head moves faster than the pretrained body in fine-tuning
BATCH = 256


def is_zoo_model(spec: str | Path) -> bool:
    return (Path(spec) / "aar_zoo.json").is_file()


class _Scorer:
    """Runs a causal LM over texts and exposes last-position logits, hidden states and token log-probs."""

    def __init__(self, model: torch.nn.Module, tok: PreTrainedTokenizerBase, yes_id: int, no_id: int) -> None:
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


def feature_tensor(scorer: _Scorer, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Probe features of a padded batch (differentiable: finetune mode trains through them)."""
    out = scorer.forward(ids, mask, hidden=True)
    n = ids.shape[0]
    last = mask.sum(dim=1) - 1
    ar = torch.arange(n)
    hid = out.hidden_states[-1][ar, last]
    logp = torch.log_softmax(out.logits[:, :-1], dim=-1)
    tok_lp = logp.gather(2, ids[:, 1:, None])[..., 0]  # row t: log p(token t+1 | tokens <= t)
    top = (logp.argmax(dim=-1) == ids[:, 1:]).float()
    valid = (torch.arange(tok_lp.shape[1])[None, :] < last[:, None]).float()  # the text's own tokens
    count = valid.sum(dim=1).clamp(min=1)
    lp = tok_lp * valid  # padding reads as log p = 0, i.e. never surprising
    # where in the text the surprise is varies by item: the K lowest log-probs, in order
    lowest = torch.sort(lp, dim=1).values[:, :SURPRISE_K]
    lowest = torch.nn.functional.pad(lowest, (0, SURPRISE_K - lowest.shape[1]))
    miss_rate = ((1 - top) * valid).sum(dim=1) / count
    mean_lp = lp.sum(dim=1) / count
    pos = last[:, None] - WINDOW_K + torch.arange(WINDOW_K)[None, :]  # the last K tokens, `?` included
    in_text = pos >= 0
    window = lp.gather(1, pos.clamp(min=0)) * in_text
    lab = out.logits[ar, last][:, [scorer.no_id, scorer.yes_id]]
    margin = lab[:, 1] - lab[:, 0]
    summary = torch.stack([miss_rate, mean_lp, margin], dim=1)
    return torch.cat([hid, lowest, summary, window], dim=1)


class ZooPredictor:
    def __init__(self, scorer: _Scorer) -> None:
        self.scorer = scorer

    @torch.no_grad()
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        self.scorer.model.eval()
        out: list[torch.Tensor] = []
        for i in range(0, len(texts), BATCH):
            ids, mask = self.scorer.batch(texts[i : i + BATCH])
            out.append(torch.softmax(self.scorer.label_logits(ids, mask), dim=1)[:, 1])
        return torch.cat(out).numpy().astype(np.float64) if out else np.zeros(0)


class FeatureHeadPredictor:
    """The probe head applied to features computed by a (fine-tuned) model."""

    def __init__(self, scorer: _Scorer, head: ProbeHead) -> None:
        self.scorer, self.head = scorer, head

    def logits(self, texts: Sequence[str]) -> torch.Tensor:
        ids, mask = self.scorer.batch(texts)
        return self.head.logits_t(feature_tensor(self.scorer, ids, mask))

    @torch.no_grad()
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        self.scorer.model.eval()
        out = [torch.softmax(self.logits(texts[i : i + BATCH]), dim=1)[:, 1]
               for i in range(0, len(texts), BATCH)]
        return torch.cat(out).numpy().astype(np.float64) if out else np.zeros(0)


@functools.lru_cache(maxsize=16)
def _weights_digest(path: Path) -> str:
    """Content hash of a model's weights: the feature cache follows the weights, not a path or a date."""
    h = hashlib.sha256()
    for f in sorted(path.glob("*.safetensors")):
        h.update(f.read_bytes())
    return h.hexdigest()


class ZooBackend(ModelBackend):
    name = "zoo"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).resolve()
        self.info = json.loads((self.path / "aar_zoo.json").read_text())
        self._scorer: _Scorer | None = None

    @property
    def scorer(self) -> _Scorer:
        """The model and its tokenizer, loaded on first use: a probe run whose features are all cached
        never loads them (nor imports transformers), which is most of a short run's time."""
        if self._scorer is None:
            quiet_hf()
            from transformers import AutoModelForCausalLM, AutoTokenizer

            tok = AutoTokenizer.from_pretrained(self.path)
            model = AutoModelForCausalLM.from_pretrained(self.path).eval()
            labels = self.info["label_tokens"]
            self._scorer = _Scorer(
                model, tok, tok.convert_tokens_to_ids(labels["yes"]), tok.convert_tokens_to_ids(labels["no"])
            )
        return self._scorer

    @property
    def model(self) -> torch.nn.Module:
        return self.scorer.model

    @property
    def tok(self) -> PreTrainedTokenizerBase:
        return self.scorer.tok

    @property
    def yes_id(self) -> int:
        return self.scorer.yes_id

    @property
    def no_id(self) -> int:
        return self.scorer.no_id

    # ---- probe features -------------------------------------------------------------------
    def cache_name(self, texts: Sequence[str], kind: str = "features") -> str:
        """The cache file name of (weights, kind, texts): the same wherever the weights are mounted."""
        h = hashlib.sha256()
        h.update(f"v4|{kind}|{_weights_digest(self.path)}".encode())
        for t in texts:
            h.update(t.encode() + b"\0")
        return f"{h.hexdigest()[:32]}.npy"

    def _cache_file(self, texts: Sequence[str], kind: str = "features") -> Path:
        return cache_dir() / "features" / self.cache_name(texts, kind)

    def features(self, texts: Sequence[str]) -> np.ndarray:
        return self._cached(texts, "features", self._features)

    def _cached(self, texts: Sequence[str], kind: str,
                compute: Callable[[Sequence[str]], np.ndarray]) -> np.ndarray:
        """`compute(texts)`, cached on disk per (model, kind, texts): read-only caches first (a research
        sandbox's /aar/cache), then the writable one, which a miss fills when it can."""
        path = self._cache_file(texts, kind)
        for candidate in [*(d / path.name for d in feature_cache_dirs()), path]:
            try:
                if candidate.exists():
                    return np.load(candidate)
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
            rows.append(feature_tensor(self.scorer, ids, mask))
        return torch.cat(rows).numpy().astype(np.float32)

    def feature_groups(self) -> dict[str, slice]:
        """`hidden`: the last-layer hidden state; `surprise`: the token log-prob statistics and the margin."""
        if self._scorer is not None:
            d = int(self.model.config.hidden_size)
        else:  # read from the config file: no need to load the model for it
            d = int(json.loads((self.path / "config.json").read_text())["hidden_size"])
        return {"hidden": slice(0, d), "surprise": slice(d, None)}

    def contrast_features(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Features of `text<yes>` and `text<no>`: read at the judgement token itself."""
        labels = self.info["label_tokens"]
        return (self.features([t + labels["yes"] for t in texts]),
                self.features([t + labels["no"] for t in texts]))

    # ---- zero-shot --------------------------------------------------------------------------
    def zero_shot(self, texts: Sequence[str]) -> np.ndarray:
        return self._cached(texts, "zero_shot", ZooPredictor(self.scorer).predict_proba)

    # ---- fine-tuning ------------------------------------------------------------------------
    def finetune(self, texts: Sequence[str], targets: np.ndarray, cfg: FinetuneConfig,
                 loss: LossFn | None = None, weights: np.ndarray | None = None) -> FeatureHeadPredictor:
        """Linear-probe-then-fine-tune (Kumar et al. 2022): fit the probe head on frozen features,
        then train a copy of the whole model and the head together through the same features."""
        from aarlab.w2s.probe import ProbeConfig, fit_probe

        head = fit_probe(self.features(texts), np.asarray(targets), ProbeConfig(seed=cfg.seed),
                         loss=loss, weights=weights)
        torch.manual_seed(cfg.seed)
        model = copy.deepcopy(self.model).train()
        predictor = FeatureHeadPredictor(_Scorer(model, self.tok, self.yes_id, self.no_id), head)
        groups = [{"params": model.parameters(), "lr": cfg.lr},
                  {"params": head.linear.parameters(), "lr": cfg.lr * HEAD_LR_MULT}]
        opt = torch.optim.AdamW(groups, weight_decay=cfg.weight_decay)
        train_classifier(predictor.logits, list(model.parameters()), opt, texts, targets, cfg, loss, weights,
                         keep_best=[*model.parameters(), *head.linear.parameters()])
        model.eval()
        return predictor
