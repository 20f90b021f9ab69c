"""Label search by mutual predictability (ICM, Wen et al. 2025), in its probe form.

Simulated annealing over the labels of `train_unlabel`, starting from the hard weak labels. The
objective is how well each label is predicted from the *others*: the k-fold cross-validated
log-likelihood of a logistic probe on frozen strong features, minus `consistency` times the number
of logical conflicts (two items of the same question both labelled true, when a question has one
true answer). A move flips a batch of labels, half 1->0 and half 0->1 (the class balance of the weak
labels is kept, which rules out the degenerate all-one-class labelling), drawn with probability
growing with how much the current cross-validated probe disagrees with each label; it is accepted by
the Metropolis rule on the change of the objective. The weak labels are the start point, not a term
of the objective: their errors survive only where the strong features predict them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

EPS = 1e-6


@dataclass
class IcmResult:
    labels: np.ndarray  # the searched labels (0/1) of train_unlabel
    proba: np.ndarray  # cross-validated p(label=1) under the final labels
    info: dict = field(default_factory=dict)


def question_groups(texts: Sequence[str], sep: str | None) -> np.ndarray:
    """Group id per text: texts sharing the part before the first `sep` share a question; -1 for texts
    alone in their group (or all texts when `sep` is empty/None)."""
    out = np.full(len(texts), -1, dtype=np.int64)
    if not sep:
        return out
    keys: dict[str, list[int]] = {}
    for i, t in enumerate(texts):
        if sep in t:
            keys.setdefault(t.split(sep, 1)[0], []).append(i)
    gid = 0
    for members in keys.values():
        if len(members) > 1:
            out[members] = gid
            gid += 1
    return out


def conflicts(labels: np.ndarray, groups: np.ndarray) -> int:
    """Pairs of items of one question both labelled 1."""
    g = groups[(groups >= 0) & (labels == 1)]
    if g.size == 0:
        return 0
    c = np.bincount(g)
    return int((c * (c - 1) // 2).sum())


class _CrossFit:
    """k logistic probes, each fitted on the other folds, warm-started between calls."""

    def __init__(self, x: np.ndarray, folds: int, seed: int, c: float) -> None:
        from sklearn.linear_model import LogisticRegression

        self.x = x
        rng = np.random.default_rng(seed)
        self.fold = rng.permutation(len(x)) % folds
        self.models = [LogisticRegression(C=c, warm_start=True, max_iter=200) for _ in range(folds)]

    def proba(self, labels: np.ndarray) -> np.ndarray:
        p = np.empty(len(labels))
        for f, m in enumerate(self.models):
            test = self.fold == f
            y = labels[~test]
            if y.min() == y.max():  # one class left: predict it
                p[test] = float(y[0])
                continue
            m.fit(self.x[~test], y)
            p[test] = m.predict_proba(self.x[test])[:, 1]
        return np.clip(p, EPS, 1 - EPS)


def _loglik(p: np.ndarray, labels: np.ndarray) -> float:
    return float(np.where(labels == 1, np.log(p), np.log(1 - p)).sum())


def icm_search(
    x: np.ndarray,
    init: np.ndarray,
    groups: np.ndarray | None = None,
    *,
    folds: int = 5,
    steps: int = 60,
    flip_frac: float = 0.02,
    consistency: float = 0.0,
    temperature: float = 1.0,
    c: float = 1.0,
    seed: int = 0,
    max_seconds: float | None = None,
) -> IcmResult:
    """Anneal the labels of the rows of `x`, starting from `init` (0/1). See the module docstring.

    `temperature` is the initial temperature per flipped label (it decays geometrically to 1% of it),
    `flip_frac` the fraction of labels a move flips at the start (decaying to a single pair)."""
    t0 = time.time()
    rng = np.random.default_rng(seed)
    y = (np.asarray(init) > 0.5).astype(np.int64)
    n = len(y)
    groups = np.full(n, -1, dtype=np.int64) if groups is None else np.asarray(groups, dtype=np.int64)
    cf = _CrossFit(x, folds, seed, c)
    p = cf.proba(y)
    score = _loglik(p, y) - consistency * conflicts(y, groups)
    start = score
    accepted = 0
    history = [round(score, 2)]
    for step in range(steps):
        if max_seconds is not None and time.time() - t0 > max_seconds:
            break
        frac = step / max(1, steps - 1)
        temp = temperature * (0.01**frac)
        m = max(1, int(round(flip_frac * n * (1 - frac) / 2)))  # flips per direction
        # how much each label's own term gains by flipping, and the conflicts it adds or removes
        gain = np.where(y == 1, np.log(1 - p) - np.log(p), np.log(p) - np.log(1 - p))
        if consistency > 0:
            counts = np.bincount(groups[(groups >= 0) & (y == 1)], minlength=max(0, groups.max()) + 1)
            g = np.where(groups >= 0, counts[np.maximum(groups, 0)], 0)
            gain = gain + consistency * np.where(groups < 0, 0, np.where(y == 1, g - 1, -g))
        flip: list[int] = []
        for cls in (0, 1):
            idx = np.flatnonzero(y == cls)
            if len(idx) <= m:
                continue
            gumbel = -np.log(-np.log(rng.uniform(size=len(idx))))  # sampling without replacement
            flip.extend(idx[np.argsort(-(gain[idx] / temp + gumbel))[:m]].tolist())
        if not flip:
            break
        y_new = y.copy()
        y_new[flip] = 1 - y_new[flip]
        p_new = cf.proba(y_new)
        s_new = _loglik(p_new, y_new) - consistency * conflicts(y_new, groups)
        if s_new >= score or rng.uniform() < np.exp((s_new - score) / (temp * len(flip))):
            y, p, score = y_new, p_new, s_new
            accepted += 1
        history.append(round(score, 2))
    info = {
        "start_objective": round(start, 2),
        "objective": round(score, 2),
        "accepted_moves": accepted,
        "steps": len(history) - 1,
        "changed_from_init": int(((np.asarray(init) > 0.5) != y).sum()),
        "conflicts": conflicts(y, groups),
        "grouped_items": int((groups >= 0).sum()),
        "seconds": round(time.time() - t0, 2),
        "history": history[:: max(1, len(history) // 20)],
    }
    return IcmResult(y, p, info)
