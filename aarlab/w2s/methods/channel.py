"""Noisy-channel posterior: weak labels as noisy observations of the true label, combined with the
strong model's prior.

`product_of_experts(prior, weak, beta, alpha)`: q(y) proportional to prior(y)^beta * weak(y)^alpha
(the weak-to-strong "product" loss of openai/weak-to-strong, applied to the targets).
`channel_em(x, weak, ...)`: EM over a weak-label confusion model. The latent true label y has the
strong prior p(y | x), a logistic probe on frozen strong features that is *cross-fitted* (each item's
prior comes from a probe that never saw that item's target, so it cannot just copy the weak label
back); the weak label is observed through a confusion model p(weak bin | y), with the weak soft label
cut into quantile bins (so a 0.55 and a 0.95 weak label can be trusted differently). E-step: q(y)
proportional to p(y | x)^beta p(bin | y)^alpha; M-step: refit the probe on q, re-estimate the
confusion from q.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

EPS = 1e-6


def crossfit_proba(
    x: np.ndarray, targets: np.ndarray, folds: int = 5, seed: int = 0, c: float = 1.0
) -> np.ndarray:
    """Out-of-fold p(label=1) of a logistic probe trained on soft `targets` (each row duplicated as a
    positive and a negative, weighted by the target)."""
    from sklearn.linear_model import LogisticRegression

    t = np.clip(np.asarray(targets, dtype=np.float64), 0.0, 1.0)
    fold = np.random.default_rng(seed).permutation(len(x)) % folds
    out = np.empty(len(x))
    for f in range(folds):
        test = fold == f
        xs, ts = x[~test], t[~test]
        xx = np.concatenate([xs, xs])
        yy = np.concatenate([np.ones(len(xs)), np.zeros(len(xs))])
        ww = np.concatenate([ts, 1 - ts])
        if ww[yy == 1].sum() < EPS or ww[yy == 0].sum() < EPS:
            out[test] = float(ts.mean())
            continue
        m = LogisticRegression(C=c, max_iter=300).fit(xx, yy, sample_weight=ww)
        out[test] = m.predict_proba(x[test])[:, 1]
    return np.clip(out, EPS, 1 - EPS)


def product_of_experts(
    prior: np.ndarray, weak: np.ndarray, beta: float = 1.0, alpha: float = 1.0
) -> np.ndarray:
    """p(label=1) proportional to prior^beta * weak^alpha (two classes, normalised)."""
    p, w = np.clip(prior, EPS, 1 - EPS), np.clip(weak, EPS, 1 - EPS)
    log1 = beta * np.log(p) + alpha * np.log(w)
    log0 = beta * np.log(1 - p) + alpha * np.log(1 - w)
    return 1 / (1 + np.exp(log0 - log1))


@dataclass
class ChannelResult:
    posterior: np.ndarray  # q(y=1) per item
    confusion: np.ndarray  # (bins, 2): p(weak bin | y)
    info: dict = field(default_factory=dict)


def weak_bins(weak: np.ndarray, bins: int) -> np.ndarray:
    """Quantile bin of each weak soft label (0..bins-1)."""
    edges = np.quantile(weak, np.linspace(0, 1, bins + 1)[1:-1])
    return np.searchsorted(edges, weak, side="right")


def channel_em(
    x: np.ndarray,
    weak: np.ndarray,
    iters: int = 5,
    beta: float = 1.0,
    alpha: float = 1.0,
    bins: int = 10,
    folds: int = 5,
    seed: int = 0,
    prior: np.ndarray | None = None,
) -> ChannelResult:
    """EM over the weak-label confusion model with a cross-fitted strong prior (module docstring).
    With `prior` given, the first E-step uses it instead of a probe fitted on the weak labels."""
    weak = np.asarray(weak, dtype=np.float64)
    b = weak_bins(weak, bins)
    q = weak.copy()
    conf = np.full((bins, 2), 1.0 / bins)
    moved = []
    for it in range(max(1, iters)):
        p = prior if (it == 0 and prior is not None) else crossfit_proba(x, q, folds, seed)
        # M-step of the confusion from the current posterior (add-one smoothing)
        for y, qy in ((1, q), (0, 1 - q)):
            counts = np.bincount(b, weights=qy, minlength=bins) + 1.0
            conf[:, y] = counts / counts.sum()
        log1 = beta * np.log(np.clip(p, EPS, 1)) + alpha * np.log(conf[b, 1])
        log0 = beta * np.log(np.clip(1 - p, EPS, 1)) + alpha * np.log(conf[b, 0])
        q_new = 1 / (1 + np.exp(log0 - log1))
        moved.append(round(float(np.abs(q_new - q).mean()), 4))
        q = q_new
    return ChannelResult(
        q,
        conf,
        {
            "iters": max(1, iters),
            "mean_change": moved,
            "changed_hard": int(((q > 0.5) != (weak > 0.5)).sum()),
        },
    )
