"""The frozen strong-feature space the strong-structure methods work in.

Features of `train_unlabel` and `test` are standardized together (no labels involved) and, when a
dimension is given, projected onto their top principal components (whitened), so every method sees
the same space. A *view* restricts the features to one named block of the backend
(`ModelBackend.feature_groups()`, e.g. the zoo's `hidden` states and `surprise` token statistics):
"all" is the whole vector, "auto" the view whose top principal components agree most with the weak
labels (a choice among a few candidates, nothing fitted to them). `contrast_space` does the same for
CCS's contrast pairs, normalizing each side separately as Burns et al. (2022) do, so the difference
between "answered yes" and "answered no" that the label token itself makes is removed and what
remains is what the model believes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class FeatureSpace:
    """Rows of train_unlabel (`u`) and test (`t`) in one standardized (optionally PCA) space."""

    u: np.ndarray
    t: np.ndarray
    view: str = "all"

    @property
    def all(self) -> np.ndarray:
        return np.concatenate([self.u, self.t])

    @property
    def dim(self) -> int:
        return int(self.u.shape[1])


def standardize(u: np.ndarray, t: np.ndarray) -> FeatureSpace:
    both = np.concatenate([u, t]).astype(np.float64)
    mean, std = both.mean(axis=0), both.std(axis=0)
    std[std < 1e-8] = 1.0
    return FeatureSpace((u - mean) / std, (t - mean) / std)


def pca(space: FeatureSpace, dim: int | None, seed: int = 0) -> FeatureSpace:
    """The top `dim` whitened principal components of `space` (unchanged if `dim` is None or too big)."""
    if dim is None or dim >= space.dim:
        return space
    from sklearn.decomposition import PCA

    p = PCA(n_components=dim, whiten=True, random_state=seed).fit(space.all)
    return FeatureSpace(p.transform(space.u), p.transform(space.t))


def make_space(u: np.ndarray, t: np.ndarray, dim: int | None = None, seed: int = 0) -> FeatureSpace:
    return pca(standardize(u, t), dim, seed)


def contrast_space(
    pos_u: np.ndarray,
    pos_t: np.ndarray,
    neg_u: np.ndarray,
    neg_t: np.ndarray,
    dim: int | None = None,
    seed: int = 0,
) -> tuple[FeatureSpace, FeatureSpace]:
    """Each side normalized on its own, then both projected with one PCA fitted on their union."""
    pos, neg = standardize(pos_u, pos_t), standardize(neg_u, neg_t)
    if dim is None or dim >= pos.dim:
        return pos, neg
    from sklearn.decomposition import PCA

    p = PCA(n_components=dim, whiten=True, random_state=seed).fit(np.concatenate([pos.all, neg.all]))
    return (
        FeatureSpace(p.transform(pos.u), p.transform(pos.t)),
        FeatureSpace(p.transform(neg.u), p.transform(neg.t)),
    )


def view_columns(groups: dict[str, slice], view: str) -> slice:
    if view == "all":
        return slice(None)
    if view in groups:
        return groups[view]
    raise ValueError(
        f"unknown feature view {view!r}; this backend has: all, auto" + "".join(f", {g}" for g in groups)
    )


def _abs_corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    den = float(np.sqrt((a**2).sum() * (b**2).sum()))
    return abs(float((a * b).sum() / den)) if den > 0 else 0.0


def choose_view(
    u: np.ndarray,
    t: np.ndarray,
    groups: dict[str, slice],
    weak: np.ndarray,
    candidates: int = 4,
    seed: int = 0,
) -> tuple[str, dict[str, float]]:
    """The view ("all" or a group) with the top-`candidates` principal component that correlates most
    (in absolute value) with the weak labels; returns it and every view's score."""
    from sklearn.decomposition import PCA

    scores = {}
    for name in ["all", *groups]:
        cols = view_columns(groups, name)
        sp = standardize(u[:, cols], t[:, cols])
        k = max(1, min(candidates, sp.dim))
        proj = PCA(n_components=k, random_state=seed).fit(sp.all).transform(sp.u)
        scores[name] = round(max(_abs_corr(proj[:, j], weak) for j in range(k)), 4)
    return max(scores, key=lambda v: scores[v]), scores


def select_view(
    u: np.ndarray,
    t: np.ndarray,
    groups: dict[str, slice],
    view: str,
    weak: np.ndarray | None = None,
    candidates: int = 4,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, str]:
    """The columns of `view` ("auto": chosen by `choose_view` with `weak`)."""
    if view == "auto":
        if weak is None:
            raise ValueError("the feature view 'auto' needs weak labels to choose a view")
        view, _ = choose_view(u, t, groups, weak, candidates, seed)
    cols = view_columns(groups, view)
    return u[:, cols], t[:, cols], view


def strong_space(
    strong_model: str,
    texts_u: list[str],
    texts_t: list[str],
    dim: int | None = None,
    seed: int = 0,
    view: str = "all",
    weak: np.ndarray | None = None,
) -> FeatureSpace:
    """Frozen features of the strong model (cached on disk by the backend) as a FeatureSpace, in `view`."""
    from aarlab.w2s.models import get_backend

    backend = get_backend(strong_model)
    u, t, chosen = select_view(
        backend.features(texts_u), backend.features(texts_t), backend.feature_groups(), view, weak, seed=seed
    )
    space = make_space(u, t, dim, seed)
    space.view = chosen
    return space


def strong_contrast_space(
    strong_model: str,
    texts_u: list[str],
    texts_t: list[str],
    dim: int | None = None,
    seed: int = 0,
    view: str = "all",
    weak: np.ndarray | None = None,
) -> tuple[FeatureSpace, FeatureSpace]:
    """The contrast pairs (answered yes / no) in `view` ("auto" chooses on the yes side)."""
    from aarlab.w2s.models import get_backend

    backend = get_backend(strong_model)
    groups = backend.feature_groups()
    pos_u, neg_u = backend.contrast_features(texts_u)
    pos_t, neg_t = backend.contrast_features(texts_t)
    pos_u, pos_t, chosen = select_view(pos_u, pos_t, groups, view, weak, seed=seed)
    cols = view_columns(groups, chosen)
    pos, neg = contrast_space(pos_u, pos_t, neg_u[:, cols], neg_t[:, cols], dim, seed)
    pos.view = neg.view = chosen
    return pos, neg
