"""Neighbourhood label smoothing (after Lang, Sontag & Vijayaraghavan 2024): each item's label from its
k nearest neighbours in frozen strong-feature space.

Weak-to-strong generalization works when the strong model cannot fit a weak error without also
erring on the error's neighbours; where the neighbours of an item mostly carry the other weak label,
its own weak label is likely an error. `knn_smooth` relabels each item by the mean weak label of its
neighbours (itself excluded); `knn_agreement` scores how well an item's own hard weak label agrees
with them, for filtering.
"""

from __future__ import annotations

import numpy as np


def knn_indices(x: np.ndarray, k: int) -> np.ndarray:
    """(n, k) indices of each row's k nearest other rows (cosine distance)."""
    from sklearn.neighbors import NearestNeighbors

    k = max(1, min(k, len(x) - 1))
    nn = NearestNeighbors(n_neighbors=k + 1, metric="cosine").fit(x)
    idx = nn.kneighbors(x, return_distance=False)
    out = np.empty((len(x), k), dtype=np.int64)
    for i, row in enumerate(idx):  # drop the row itself (not always first when there are duplicates)
        others = row[row != i]
        out[i] = others[:k]
    return out


def knn_smooth(x: np.ndarray, weak: np.ndarray, k: int = 10) -> np.ndarray:
    """Soft labels: the mean weak soft label of each item's k nearest neighbours."""
    return np.asarray(weak, dtype=np.float64)[knn_indices(x, k)].mean(axis=1)


def knn_agreement(weak: np.ndarray, smoothed: np.ndarray) -> np.ndarray:
    """1 - |hard weak label - neighbours' mean|: high where an item's weak label agrees with its
    neighbours."""
    return 1.0 - np.abs((np.asarray(weak) > 0.5).astype(np.float64) - smoothed)
