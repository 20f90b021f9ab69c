"""The strong-structure methods on synthetic features whose structure is planted: each must show its
known effect (seeded, with margins; no model training beyond small probes)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from aarlab.w2s.methods import (
    ccs_direction,
    channel_em,
    cluster_means_direction,
    crossfit_proba,
    gmm_direction,
    icm_search,
    knn_agreement,
    knn_smooth,
    make_space,
    pca_direction,
    product_of_experts,
    question_groups,
    relabel_dropped,
    scores_to_soft,
    top_components,
)
from aarlab.w2s.methods.features import contrast_space
from aarlab.w2s.methods.icm import conflicts
from aarlab.w2s.probe import ProbeConfig, fit_probe


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def acc(p: np.ndarray, y: np.ndarray) -> float:
    return float(((np.asarray(p) > 0.5) == y).mean())


def balanced(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.permutation(np.arange(n) % 2)


def noisy(rng: np.random.Generator, y: np.ndarray, rate: float) -> np.ndarray:
    w = y.astype(np.float64).copy()
    flip = rng.uniform(size=len(y)) < rate
    w[flip] = 1 - w[flip]
    return w


def factor_data(
    seed: int = 0,
    n: int = 2000,
    d: int = 24,
    sep: float = 1.0,
    nuisance: float = 0.0,
    k: int = 6,
    noise: float = 0.3,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The truth shifts `k` features together by ±sep; an optional nuisance factor moves 6 others
    together with a larger variance; the weak labels are the truth with `noise` random flips."""
    rng = np.random.default_rng(seed)
    y = balanced(rng, n)
    x = rng.normal(size=(n, d))
    x[:, :k] += np.outer((2 * y - 1) * sep, np.ones(k))
    if nuisance:
        x[:, k : k + 6] += np.outer(rng.normal(size=n) * nuisance, np.ones(6))
    return x, y, noisy(rng, y, noise)


# -- unsupervised truth directions ------------------------------------------------------------------


def test_pca_direction_chooses_the_truth_component_among_candidates() -> None:
    x, y, w = factor_data(nuisance=2.0)  # the top component is the nuisance, the second the truth
    sp = make_space(x[:1500], x[1500:])
    top_only = pca_direction(sp, w[:1500], candidates=1)
    chosen = pca_direction(sp, w[:1500], candidates=4)
    assert top_only.info["component"] == 0 and acc(top_only.p_t, y[1500:]) < 0.6
    assert chosen.info["component"] == 1 and acc(chosen.p_t, y[1500:]) > 0.95
    assert acc(chosen.p_t, y[1500:]) > acc(w[1500:], y[1500:]) + 0.2  # far beyond its 0.7 weak labels


def test_direction_sign_comes_from_the_weak_labels_only() -> None:
    x, y, w = factor_data(seed=1)
    sp = make_space(x[:1500], x[1500:])
    right = pca_direction(sp, w[:1500], candidates=2)
    flipped = pca_direction(sp, 1 - w[:1500], candidates=2)
    assert right.info["sign"] == -flipped.info["sign"]
    assert acc(right.p_t, y[1500:]) > 0.95 and acc(flipped.p_t, y[1500:]) < 0.05


@pytest.mark.parametrize("method", [cluster_means_direction, gmm_direction])
def test_cluster_directions_recover_planted_clusters(method) -> None:  # noqa: ANN001
    x, y, w = factor_data(seed=2)
    sp = make_space(x[:1500], x[1500:])
    res = method(sp, w[:1500], seed=0)
    assert acc(res.p_t, y[1500:]) > 0.95 and acc(res.p_u, y[:1500]) > 0.95


def test_ccs_finds_the_truth_in_contrast_pairs_despite_the_label_token_direction() -> None:
    rng = np.random.default_rng(1)
    n, d = 800, 12
    y = balanced(rng, n)
    token = rng.normal(size=d) * 3  # what "answered yes" vs "answered no" adds regardless of truth
    truth = np.zeros(d)
    truth[3] = 1.5
    pos = rng.normal(size=(n, d)) + token + np.outer(2 * y - 1, truth)
    neg = rng.normal(size=(n, d)) - token - np.outer(2 * y - 1, truth)
    w = noisy(rng, y, 0.3)
    p, q = contrast_space(pos[:600], pos[600:], neg[:600], neg[600:])
    res = ccs_direction(p, q, w[:600], seed=0, restarts=2, epochs=200)
    assert acc(res.p_t, y[600:]) > 0.9
    res_flipped = ccs_direction(p, q, 1 - w[:600], seed=0, restarts=2, epochs=200)
    assert acc(res_flipped.p_t, y[600:]) < 0.1  # oriented by the (here inverted) weak labels


def test_scores_to_soft_is_monotone_and_splits_two_modes() -> None:
    rng = np.random.default_rng(0)
    s = np.concatenate([rng.normal(-2, 0.5, 500), rng.normal(2, 1.5, 500)])
    p_u, p_t = scores_to_soft(s[:800], s[800:])
    p = np.concatenate([p_u, p_t])
    order = np.argsort(s)
    assert np.all(np.diff(p[order]) >= -1e-12)
    assert acc(p, (s > 0).astype(int)) > 0.95


# -- ICM ----------------------------------------------------------------------------------------------


def test_icm_removes_unpredictable_weak_noise() -> None:
    x, y, w = factor_data(seed=3, sep=0.5)
    res = icm_search(x, w, steps=60, seed=0)
    assert acc(w, y) < 0.72
    assert acc(res.labels, y) > acc(w, y) + 0.12
    assert res.labels.sum() == (w > 0.5).sum()  # the moves keep the weak labels' class balance


def test_icm_started_from_a_truth_direction_ends_nearer_the_truth_than_from_the_weak_labels() -> None:
    # 40% weak noise: the annealing, a local search, cannot climb from the weak labels to the truth in
    # its steps, while the unsupervised direction (oriented by the same weak labels) starts it near it
    x, y, w = factor_data(seed=5, sep=0.6, noise=0.4)
    from_weak = icm_search(x, w, steps=40, seed=0)
    start = gmm_direction(make_space(x, x[:10]), w, seed=0).p_u
    from_direction = icm_search(x, start, steps=40, seed=0)
    assert acc(start, y) > acc(from_weak.labels, y)
    assert acc(from_direction.labels, y) > acc(from_weak.labels, y) + 0.05
    assert acc(from_direction.labels, y) >= acc(start, y) - 0.02


def test_icm_consistency_term_uses_shared_questions() -> None:
    rng = np.random.default_rng(3)
    nq = 500  # each question has one true and one false answer
    y = np.tile([1, 0], nq)
    swap = np.repeat(rng.uniform(size=nq) < 0.5, 2)
    y = np.where(swap, 1 - y, y)
    groups = np.repeat(np.arange(nq), 2)
    x = rng.normal(size=(2 * nq, 10))
    x[:, :4] += np.outer((2 * y - 1) * 0.35, np.ones(4))
    w = noisy(rng, y, 0.3)
    plain = icm_search(x, w, groups, steps=50, consistency=0.0, seed=0)
    consistent = icm_search(x, w, groups, steps=50, consistency=5.0, seed=0)
    assert consistent.info["conflicts"] < 0.5 * plain.info["conflicts"]
    assert acc(consistent.labels, y) > acc(plain.labels, y) + 0.05


def test_question_groups_and_conflicts() -> None:
    texts = ["1+2=3?", "1+2=4?", "2*3=6?", "no separator"]
    g = question_groups(texts, "=")
    assert g[0] == g[1] >= 0 and g[2] == -1 and g[3] == -1
    assert (question_groups(texts, None) == -1).all()
    assert conflicts(np.array([1, 1, 1, 1]), g) == 1 and conflicts(np.array([1, 0, 1, 1]), g) == 0


# -- neighbourhood smoothing --------------------------------------------------------------------------


def tight_clusters(seed: int = 0, clusters: int = 200, size: int = 10, d: int = 8):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, d)) * 3
    labels = balanced(rng, clusters)
    x = np.repeat(centres, size, axis=0) + rng.normal(size=(clusters * size, d)) * 0.2
    y = np.repeat(labels, size)
    return x, y, noisy(rng, y, 0.3)


def test_knn_smoothing_relabels_by_the_neighbourhood() -> None:
    x, y, w = tight_clusters()
    smoothed = knn_smooth(x, w, k=9)
    assert acc(w, y) < 0.75 and acc(smoothed, y) > 0.9


def test_knn_agreement_flags_the_wrong_weak_labels() -> None:
    x, y, w = tight_clusters(seed=1)
    agree = knn_agreement(w, knn_smooth(x, w, k=9))
    keep = agree >= np.quantile(agree, 0.4)
    assert acc(w[keep], y[keep]) > acc(w[~keep], y[~keep]) + 0.3


# -- noisy channel ------------------------------------------------------------------------------------


def test_product_of_experts_beats_either_expert_with_independent_errors() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    y = balanced(rng, n)

    def expert(margin: float) -> np.ndarray:  # calibrated: the posterior of a noisy signal
        s = (2 * y - 1) * margin + rng.normal(size=n)
        return 1 / (1 + np.exp(-2 * margin * s))

    prior, weak = expert(0.8), expert(0.7)
    q = product_of_experts(prior, weak)
    assert acc(q, y) > max(acc(prior, y), acc(weak, y)) + 0.03
    assert np.allclose(product_of_experts(prior, weak, beta=0.0), np.clip(weak, 1e-6, 1 - 1e-6))


def test_channel_em_learns_which_weak_confidences_to_trust() -> None:
    x, y, _ = factor_data(seed=4, sep=0.4)
    rng = np.random.default_rng(4)
    wrong = rng.uniform(size=len(y)) < 0.3
    # wrong weak labels come with low confidence, right ones with high: the soft labels hold that
    conf = np.where(wrong, rng.uniform(0.5, 0.7, len(y)), rng.uniform(0.6, 0.95, len(y)))
    weak = np.where(wrong != (y == 1), conf, 1 - conf)
    res = channel_em(x, weak, iters=5, seed=0)
    assert acc(weak, y) < 0.72
    assert acc(res.posterior, y) > acc(weak, y) + 0.1
    assert acc(res.posterior, y) > acc(crossfit_proba(x, weak), y) + 0.01


# -- capacity control ---------------------------------------------------------------------------------


def test_top_components_keep_the_probe_from_fitting_weak_errors() -> None:
    rng = np.random.default_rng(0)
    n, d = 3000, 20
    y = balanced(rng, n)
    x = rng.normal(size=(n, d))
    x[:, :8] += np.outer((2 * y - 1) * 0.8, np.ones(8))
    w = y.astype(np.float64)
    w[x[:, 15] > 0.5] = 0.0  # the weak model says "no" whenever an unrelated feature is high
    full = fit_probe(x[:2000], w[:2000], ProbeConfig()).predict_proba(x[2000:])
    xa, (xb,) = top_components(x[:2000], [x[2000:]], 1)
    low = fit_probe(xa, w[:2000], ProbeConfig()).predict_proba(xb)
    assert acc(low, y[2000:]) > acc(full, y[2000:]) + 0.04


def test_early_stopping_on_held_out_weak_misfit_stops_before_memorising_noise() -> None:
    rng = np.random.default_rng(0)
    n, d, k = 400, 300, 30
    y = balanced(rng, n)
    x = rng.normal(size=(n, d))
    x[:, :k] += np.outer((2 * y - 1) * 0.35, np.ones(k))
    w = noisy(rng, y, 0.3)
    yt = balanced(rng, 2000)
    xt = rng.normal(size=(2000, d))
    xt[:, :k] += np.outer((2 * yt - 1) * 0.35, np.ones(k))
    full = fit_probe(x, w, ProbeConfig(l2=0.0, lr=0.01))
    stopped = fit_probe(x, w, ProbeConfig(l2=0.0, lr=0.01, holdout=0.2))
    assert full.steps is None and stopped.steps is not None and stopped.steps < 300
    assert acc(stopped.predict_proba(xt), yt) > acc(full.predict_proba(xt), yt) + 0.04


# -- filter, then relabel -----------------------------------------------------------------------------


def test_relabel_dropped_replaces_the_distrusted_labels_with_the_students() -> None:
    x, y, _ = factor_data(seed=5, sep=0.6)
    rng = np.random.default_rng(5)
    unsure = rng.uniform(size=len(y)) < 0.4
    # the weak model is right when confident and a coin flip when unsure
    weak = np.where(unsure, rng.uniform(0.4, 0.6, len(y)), np.where(y == 1, 0.9, 0.1))
    keep = np.abs(weak - 0.5) > 0.15

    def fit_predict(t: np.ndarray, k: np.ndarray) -> np.ndarray:
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression().fit(x[k], (t[k] > 0.5).astype(int)).predict_proba(x)[:, 1]

    new = relabel_dropped(weak, keep, fit_predict)
    assert np.array_equal(new[keep], weak[keep])
    assert acc(weak[~keep], y[~keep]) < 0.6 and acc(new[~keep], y[~keep]) > 0.9
    assert np.array_equal(relabel_dropped(weak, np.ones(len(y), dtype=bool), fit_predict), weak)


def test_target_confidence_of_hard_targets_ranks_by_the_evidence_behind_them() -> None:
    """icm's labels are 0/1: `target_confidence` must read the cross-fitted support of each label, not the
    labels (every item alike, so a filter kept the first items by index); `weak_hard` reads the weak
    model's confidence."""
    from types import SimpleNamespace

    from aarlab.w2s.methods.features import FeatureSpace
    from aarlab.w2s.methods.targets import StrongLabels
    from aarlab.w2s.recipe import Recipe

    x, y, w = factor_data(seed=3, sep=0.5)
    ctx = SimpleNamespace(seed=0, max_seconds=None, data=SimpleNamespace(meta={"task": "synthetic"}))
    labels = StrongLabels(ctx, Recipe(label_source="icm", icm_consistency=0.0), [""] * len(x), [], w)  # type: ignore[arg-type]
    labels._space = FeatureSpace(u=x, t=x[:0])
    t = labels.targets()
    sure = labels.target_trust(t)
    assert set(np.unique(t)) == {0.0, 1.0} and sure.std() > 0.05
    right = (t > 0.5) == y
    top = np.argsort(-sure, kind="stable")[: len(sure) * 3 // 10]
    # the kept 30% are righter than all (0.99 against 0.87 when written) and than the first 30% by index
    assert right[top].mean() > max(right.mean(), right[: len(top)].mean()) + 0.05
    soft = np.clip(np.where(w > 0.5, 0.8, 0.2) + np.random.default_rng(0).normal(0, 0.1, len(w)), 0, 1)
    weak_hard = StrongLabels(ctx, Recipe(label_source="weak_hard"), [""] * len(x), [], soft)  # type: ignore[arg-type]
    assert np.allclose(weak_hard.target_trust(weak_hard.targets()), np.abs(soft - 0.5) * 2)
