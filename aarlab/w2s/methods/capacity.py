"""Capacity control of the student (after Charikar et al. 2024: for a convex student class, the gain
over the weak model is its misfit on the weak labels, so a student that cannot fit the weak errors
must disagree with them).

Knobs: `top_components` restricts the probe head to the top-k principal components of the frozen
features (standardized on all rows given, no labels); a feature view (`Recipe.student_view`)
restricts it to one block of them; early stopping (`ProbeConfig.holdout` for the probe,
`FinetuneConfig.holdout` for fine-tuning) stops training when the misfit on held-out *weak* labels
stops falling (what is fitted after that is weak-label noise).
"""

from __future__ import annotations

import numpy as np


def top_components(
    train: np.ndarray, others: list[np.ndarray], dim: int, seed: int = 0
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Project `train` and each of `others` onto the top `dim` whitened principal components of all of
    them together, after standardizing (an entry of `others` that is `train` itself counts once);
    unchanged when `dim` is at least the feature dimension."""
    if dim >= train.shape[1]:
        return train, others
    from sklearn.decomposition import PCA

    both = np.concatenate([train, *[o for o in others if o is not train]]).astype(np.float64)
    mean, std = both.mean(axis=0), both.std(axis=0)
    std[std < 1e-8] = 1.0
    p = PCA(n_components=dim, whiten=True, random_state=seed).fit((both - mean) / std)

    def proj(a: np.ndarray) -> np.ndarray:
        return p.transform((a - mean) / std).astype(np.float32)

    return proj(train), [proj(o) for o in others]


def holdout_mask(n: int, fraction: float, seed: int = 0) -> np.ndarray:
    """A seeded boolean mask of `round(fraction * n)` held-out rows (at least one row on each side)."""
    k = min(max(1, int(round(fraction * n))), n - 1)
    mask = np.zeros(n, dtype=bool)
    mask[np.random.default_rng(seed + 7919).permutation(n)[:k]] = True
    return mask
