"""Unsupervised truth directions in frozen strong features, oriented by the weak labels.

Four ways to find a direction without labels: `pca` (one of the top principal components),
`cluster_means` (the difference of the two k-means cluster centres), `gmm` (a two-component Gaussian
mixture), `ccs` (contrast-consistent search, Burns et al. 2022: a probe that is consistent and
confident on each statement answered yes and answered no). The weak labels are used only to *orient*
the result: the sign of the direction, which of the `candidates` top components to take (`pca`), which
mixture component is "true" (`gmm`). Nothing is fitted to them, so the direction cannot learn the weak
model's errors item by item (it can still pick a direction that encodes them, if one of the
candidates does: keep `candidates` small).

Each method returns soft labels p(label=1) for train_unlabel and test; scores on a line become soft
labels through a one-dimensional two-component mixture fitted on the scores (no labels).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aarlab.w2s.methods.features import FeatureSpace

DIRECTION_METHODS = ("pca", "cluster_means", "gmm", "ccs")


@dataclass
class DirectionResult:
    p_u: np.ndarray  # p(label=1) on train_unlabel
    p_t: np.ndarray  # and on test
    info: dict = field(default_factory=dict)


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    den = float(np.sqrt((a**2).sum() * (b**2).sum()))
    return float((a * b).sum() / den) if den > 0 else 0.0


def scores_to_soft(score_u: np.ndarray, score_t: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Soft labels from an oriented score: the posterior of the upper component of a 1-D two-component
    Gaussian mixture fitted on all scores (a monotone map; no labels)."""
    from sklearn.mixture import GaussianMixture

    s = np.concatenate([score_u, score_t])
    z = ((s - s.mean()) / (s.std() + 1e-12))[:, None]
    gm = GaussianMixture(2, n_init=3, random_state=seed, reg_covar=1e-3).fit(z)
    hi = int(np.argmax(gm.means_[:, 0]))
    p = gm.predict_proba(z)[:, hi]
    # the mixture posterior need not be monotone when the two variances differ a lot: force it
    order = np.argsort(z[:, 0], kind="stable")
    p[order] = np.maximum.accumulate(p[order])
    return p[: len(score_u)], p[len(score_u) :]


def pca_direction(
    space: FeatureSpace, weak: np.ndarray, candidates: int = 4, seed: int = 0
) -> DirectionResult:
    """The top-`candidates` principal component whose projection agrees most with the weak labels
    (absolute correlation), signed to agree with them."""
    from sklearn.decomposition import PCA

    k = max(1, min(candidates, space.dim))
    p = PCA(n_components=k, random_state=seed).fit(space.all)
    proj_u, proj_t = p.transform(space.u), p.transform(space.t)
    corrs = np.array([_corr(proj_u[:, j], weak) for j in range(k)])
    j = int(np.argmax(np.abs(corrs)))
    sign = 1.0 if corrs[j] >= 0 else -1.0
    p_u, p_t = scores_to_soft(sign * proj_u[:, j], sign * proj_t[:, j], seed)
    return DirectionResult(
        p_u,
        p_t,
        {
            "component": j,
            "sign": sign,
            "weak_corr": [round(float(c), 4) for c in corrs],
            "explained_variance": [round(float(v), 4) for v in p.explained_variance_ratio_],
        },
    )


def cluster_means_direction(space: FeatureSpace, weak: np.ndarray, seed: int = 0) -> DirectionResult:
    """The difference of the two k-means centres; the data projected on it, signed by the weak labels."""
    from sklearn.cluster import KMeans

    km = KMeans(2, n_init=10, random_state=seed).fit(space.all)
    d = km.cluster_centers_[1] - km.cluster_centers_[0]
    s_u, s_t = space.u @ d, space.t @ d
    c = _corr(s_u, weak)
    sign = 1.0 if c >= 0 else -1.0
    p_u, p_t = scores_to_soft(sign * s_u, sign * s_t, seed)
    return DirectionResult(
        p_u,
        p_t,
        {
            "sign": sign,
            "weak_corr": round(c, 4),
            "cluster_sizes": np.bincount(km.labels_, minlength=2).tolist(),
        },
    )


def gmm_direction(space: FeatureSpace, weak: np.ndarray, seed: int = 0) -> DirectionResult:
    """A two-component full-covariance Gaussian mixture; the component with the higher mean weak
    label is "true" and its posterior is the soft label."""
    from sklearn.mixture import GaussianMixture

    gm = GaussianMixture(2, covariance_type="full", n_init=3, random_state=seed, reg_covar=1e-2).fit(
        space.all
    )
    r_u, r_t = gm.predict_proba(space.u), gm.predict_proba(space.t)
    mean_weak = (r_u * weak[:, None]).sum(axis=0) / np.maximum(r_u.sum(axis=0), 1e-12)
    true = int(np.argmax(mean_weak))
    return DirectionResult(
        r_u[:, true],
        r_t[:, true],
        {
            "true_component": true,
            "component_weak_means": [round(float(m), 4) for m in mean_weak],
            "weights": [round(float(w), 4) for w in gm.weights_],
        },
    )


def ccs_fit(
    pos: np.ndarray,
    neg: np.ndarray,
    seed: int = 0,
    restarts: int = 10,
    epochs: int = 800,
    lr: float = 1e-2,
    weight_decay: float = 1e-2,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Contrast-consistent search: a linear probe p(x) = sigmoid(w.x + b) minimising
    mean((p(x+) - (1 - p(x-)))^2) + mean(min(p(x+), p(x-))^2) over `restarts` random initialisations;
    returns (w, b, loss) of the restart with the lowest (unsupervised) loss."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    xp = torch.as_tensor(pos, dtype=torch.float32)
    xn = torch.as_tensor(neg, dtype=torch.float32)
    best: tuple[np.ndarray, np.ndarray, float] | None = None
    for _ in range(restarts):
        w = (torch.randn(pos.shape[1], generator=gen) / np.sqrt(pos.shape[1])).requires_grad_()
        b = torch.zeros(1, requires_grad=True)
        opt = torch.optim.AdamW([w, b], lr=lr, weight_decay=weight_decay)
        for _ in range(epochs):
            pp, pn = torch.sigmoid(xp @ w + b), torch.sigmoid(xn @ w + b)
            loss = ((pp - (1 - pn)) ** 2).mean() + (torch.minimum(pp, pn) ** 2).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        with torch.no_grad():
            pp, pn = torch.sigmoid(xp @ w + b), torch.sigmoid(xn @ w + b)
            final = float(((pp - (1 - pn)) ** 2).mean() + (torch.minimum(pp, pn) ** 2).mean())
        if best is None or final < best[2]:
            best = (w.detach().numpy().astype(np.float64), b.detach().numpy().astype(np.float64), final)
    assert best is not None
    return best


def ccs_direction(
    pos: FeatureSpace,
    neg: FeatureSpace,
    weak: np.ndarray,
    seed: int = 0,
    restarts: int = 10,
    epochs: int = 800,
) -> DirectionResult:
    """CCS on contrast pairs (each side normalized on its own, see `features.contrast_space`), fitted on
    train_unlabel and test together; the probe's answer 0.5 (p(x+) + 1 - p(x-)), signed by the weak labels."""
    w, b, loss = ccs_fit(
        np.concatenate([pos.u, pos.t]), np.concatenate([neg.u, neg.t]), seed, restarts, epochs
    )

    def answer(xp: np.ndarray, xn: np.ndarray) -> np.ndarray:
        sp, sn = 1 / (1 + np.exp(-(xp @ w + b))), 1 / (1 + np.exp(-(xn @ w + b)))
        return 0.5 * (sp + 1 - sn)

    p_u, p_t = answer(pos.u, neg.u), answer(pos.t, neg.t)
    c = _corr(p_u, weak)
    if c < 0:
        p_u, p_t = 1 - p_u, 1 - p_t
    return DirectionResult(
        p_u, p_t, {"ccs_loss": round(loss, 5), "flipped": bool(c < 0), "weak_corr": round(c, 4)}
    )
