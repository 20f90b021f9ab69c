"""The recipe engine's label stage: targets for `train_unlabel` from a recipe's label source, computed
lazily (strong features, zero-shot prior, neighbours), with what each method found kept in `info`.
icm and knn read their input labels from `inputs()`: the weak labels, or a first label source's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from aarlab.w2s.idea import IdeaContext
from aarlab.w2s.methods.features import FeatureSpace, strong_contrast_space, strong_space

if TYPE_CHECKING:
    from aarlab.w2s.recipe import Recipe

# what a "question" is in each built-in task (items sharing it have at most one true answer): the
# expression of a math chain, the program of a code trace, the two facts of a world comparison
QUESTION_SEPARATORS = {"math": "=", "code": ">", "world": ":"}


class StrongLabels:
    def __init__(
        self, ctx: IdeaContext, recipe: Recipe, texts_u: list[str], texts_t: list[str], weak: np.ndarray
    ) -> None:
        self.ctx, self.r, self.texts_u, self.texts_t, self.weak = ctx, recipe, texts_u, texts_t, weak
        self.info: dict[str, Any] = {}
        self._space: FeatureSpace | None = None
        self._prior: np.ndarray | None = None
        self._smoothed: np.ndarray | None = None
        self._sure: np.ndarray | None = None  # see `target_trust`

    # -- lazily computed inputs -------------------------------------------------------------------
    @property
    def space(self) -> FeatureSpace:
        if self._space is None:
            self._space = strong_space(
                self.ctx.strong_model,
                self.texts_u,
                self.texts_t,
                self.r.feature_dim,
                self.ctx.seed,
                self.r.feature_view,
                self.weak,
            )
            self.info["feature_view"] = self._space.view
        return self._space

    def zero_shot(self) -> np.ndarray:
        if self._prior is None:
            from aarlab.w2s.models import get_backend

            self._prior = get_backend(self.ctx.strong_model).zero_shot(self.texts_u)
        return self._prior

    def smoothed(self) -> np.ndarray:
        if self._smoothed is None:
            self._smoothed = self._knn(self.weak)
        return self._smoothed

    def inputs(self) -> np.ndarray:
        """The labels icm starts from and knn smooths: the weak labels, or the targets of the label
        source `input_labels` names (itself run from the weak labels, in the same feature space)."""
        src = self.r.input_labels
        if src == "weak":
            return self.weak
        first = StrongLabels(
            self.ctx,
            self.r.model_copy(update={"label_source": src, "input_labels": "weak", "hard_targets": False}),
            self.texts_u,
            self.texts_t,
            self.weak,
        )
        first._space, first._prior, first._smoothed = self._space, self._prior, self._smoothed
        t = first.targets()
        if self._space is None and first._space is not None:  # one feature space for both stages
            self._space = first._space
            self.info["feature_view"] = first._space.view
        self.info["input"] = {"label_source": src, **first.info}
        return t

    def target_trust(self, targets: np.ndarray) -> np.ndarray:
        """How sure the label stage is of each target (`target_confidence`), in [0, 1]: for soft targets
        their distance from 0.5; for hard ones (icm's, `hard_targets`) the evidence behind each: icm's
        cross-fitted probe probability of its label (the other folds' support), or the soft target before
        hardening (the weak labels' for `weak_hard`). Hard 0/1 targets alone would rank every item alike (the
        filter would keep the first items by index)."""
        return self._sure if self._sure is not None else np.abs(targets - 0.5) * 2

    def prior_if(self, trust: str) -> np.ndarray | None:
        return self.zero_shot() if trust == "agreement" else None

    def smoothed_if(self, trust: str) -> np.ndarray | None:
        return self.smoothed() if trust == "knn" else None

    # -- the label sources ------------------------------------------------------------------------
    def targets(self) -> np.ndarray:
        from aarlab.w2s.recipe import recipe_targets

        src = self.r.label_source
        if src in ("weak_hard", "weak_soft"):
            if src == "weak_hard":
                self._sure = np.abs(self.weak - 0.5) * 2
            return recipe_targets(self.r, self.weak, None)
        if src in ("strong_prior", "mix"):
            t = recipe_targets(self.r, self.weak, self.zero_shot())
        elif src == "direction":
            t = self.direction().p_u
        elif src == "icm":
            return self.icm()
        elif src == "knn":
            t = self.smoothed() if self.r.input_labels == "weak" else self._knn(self.inputs())
        elif src == "channel":
            t = self.channel()
        else:
            raise ValueError(f"unknown label_source {src!r}")
        if self.r.hard_targets:
            self._sure = np.abs(t - 0.5) * 2
            t = (t > 0.5).astype(np.float64)
        self.info["agreement_with_weak"] = round(float(((t > 0.5) == (self.weak > 0.5)).mean()), 4)
        return t

    def direction(self):  # noqa: ANN201 - a DirectionResult
        from aarlab.w2s.methods import direction as d

        m, seed = self.r.direction_method, self.ctx.seed
        if m == "ccs":
            pos, neg = strong_contrast_space(
                self.ctx.strong_model,
                self.texts_u,
                self.texts_t,
                self.r.feature_dim,
                seed,
                self.r.feature_view,
                self.weak,
            )
            self.info["feature_view"] = pos.view
            res = d.ccs_direction(pos, neg, self.weak, seed)
        elif m == "pca":
            res = d.pca_direction(self.space, self.weak, self.r.direction_candidates, seed)
        elif m == "cluster_means":
            res = d.cluster_means_direction(self.space, self.weak, seed)
        elif m == "gmm":
            res = d.gmm_direction(self.space, self.weak, seed)
        else:
            raise ValueError(f"unknown direction_method {m!r}")
        self.info["direction"] = {"method": m, **res.info}
        return res

    def _knn(self, labels: np.ndarray) -> np.ndarray:
        from aarlab.w2s.methods.neighbours import knn_smooth

        return knn_smooth(self.space.u, labels, self.r.knn_k)

    def icm(self) -> np.ndarray:
        from aarlab.w2s.methods.icm import icm_search, question_groups

        sep = self.r.icm_question_sep
        if sep is None:
            sep = QUESTION_SEPARATORS.get(str(self.ctx.data.meta.get("task", "")), "")
        groups = question_groups(self.texts_u, sep) if self.r.icm_consistency > 0 else None
        budget = None if self.ctx.max_seconds is None else 0.5 * self.ctx.max_seconds
        res = icm_search(
            self.space.u,
            self.inputs(),
            groups,
            steps=self.r.icm_steps,
            flip_frac=self.r.icm_flip_frac,
            consistency=self.r.icm_consistency,
            temperature=self.r.icm_temperature,
            seed=self.ctx.seed,
            max_seconds=budget,
        )
        self.info["icm"] = res.info
        y = res.labels.astype(np.float64)
        self._sure = np.where(y == 1, res.proba, 1 - res.proba)
        return y

    def channel(self) -> np.ndarray:
        from aarlab.w2s.methods import channel as ch

        r, seed = self.r, self.ctx.seed
        if r.channel_prior == "zero_shot":
            prior = self.zero_shot()
        elif r.channel_prior == "direction":
            prior = self.direction().p_u
        else:  # the first-stage student, cross-fitted so it never saw the item's own weak label
            prior = ch.crossfit_proba(self.space.u, self.weak, seed=seed)
        if r.channel_em_iters == 0:
            q = ch.product_of_experts(prior, self.weak, r.channel_beta, r.channel_alpha)
            self.info["channel"] = {"kind": "product_of_experts", "prior": r.channel_prior}
            return q
        res = ch.channel_em(
            self.space.u,
            self.weak,
            r.channel_em_iters,
            r.channel_beta,
            r.channel_alpha,
            seed=seed,
            prior=prior,
        )
        self.info["channel"] = {"kind": "em", "prior": r.channel_prior, **res.info}
        return res.posterior
