"""W2S recipes: a typed, JSON-able description of a weak-to-strong method, and its engine.

A recipe picks the label source of `train_unlabel` (the weak labels, the strong model's zero-shot
prior, a mix, or one of the strong-structure methods of `aarlab.w2s.methods`: an unsupervised truth
direction, label search by mutual predictability, neighbourhood smoothing, a noisy-channel
posterior; icm and knn can take another source's labels as their input instead of the weak
labels, which composes two of them), an optional filter (with relabelling of what it dropped) and
reweighting, a loss, a number of self-training rounds, and the training mode with its
hyper-parameters and capacity control. `run_recipe(ctx, recipe)` trains the strong model accordingly
and writes predictions.json.

Many fields only matter when a switch is on (e.g. `mix_alpha` when `label_source` is `mix`):
`CONDITIONS` (`aarlab.w2s.recipe_fields`) says when, and `Recipe.inactive_fields()` lists the ones a recipe
ignores; `parse_recipe` sets those to their defaults, so the engine never reads one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from aarlab.w2s.idea import IdeaContext
from aarlab.w2s.recipe_fields import CONDITIONS, STRONG_SOURCES, field_active
from aarlab.w2s.training import TrainSpec, train_and_predict

LabelSource = Literal["weak_hard", "weak_soft", "strong_prior", "mix", "direction", "icm", "knn", "channel"]
Trust = Literal["none", "weak_confidence", "agreement", "knn", "target_confidence"]


class Recipe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["probe", "finetune"] | None = None  # None: the context's mode
    label_source: LabelSource = "weak_soft"
    mix_alpha: float = Field(0.5, ge=0, le=1)
    # strong-structure label sources work in the frozen strong features of `feature_view` ("all", a
    # block the backend names, or "auto": the block whose top components agree most with the weak
    # labels), standardized, projected on their top `feature_dim` principal components (None: all)
    feature_view: str = Field("auto", min_length=1, max_length=64)
    feature_dim: int | None = Field(None, ge=1, le=8192)
    direction_method: Literal["pca", "cluster_means", "gmm", "ccs"] = "pca"
    direction_candidates: int = Field(4, ge=1, le=64)  # pca: choose among the top-k components
    icm_steps: int = Field(60, ge=1, le=5000)
    icm_flip_frac: float = Field(0.02, gt=0, le=0.5)
    icm_temperature: float = Field(1.0, gt=0, le=100)
    icm_consistency: float = Field(2.0, ge=0, le=100)  # weight of "two true answers to one question"
    icm_question_sep: str | None = None  # a question is the text before this; None: the task's default
    knn_k: int = Field(10, ge=1, le=1000)
    # the labels icm starts its search from and knn smooths: the weak labels, or another label source's
    # (run first, from the weak labels): e.g. icm started from a truth direction, or knn over icm's labels
    input_labels: Literal["weak", "direction", "icm", "knn", "channel"] = "weak"
    channel_prior: Literal["student", "zero_shot", "direction"] = "student"
    channel_em_iters: int = Field(0, ge=0, le=50)  # 0: product of experts, else EM over a confusion model
    channel_beta: float = Field(1.0, ge=0, le=10)  # exponent of the strong prior
    channel_alpha: float = Field(1.0, ge=0, le=10)  # exponent of the weak evidence
    hard_targets: bool = False  # harden the label source's soft labels at 0.5
    filter: Trust = "none"
    filter_keep: float = Field(0.7, gt=0, le=1)
    relabel_dropped: bool = False  # the first-stage student labels what the filter dropped; retrain
    reweight: Trust = "none"
    loss: Literal["ce", "aux_conf", "bootstrap", "gce"] = "ce"
    aux_alpha: float = Field(0.5, ge=0, le=1)
    rounds: int = Field(1, ge=1, le=5)
    lr: float | None = Field(None, gt=0)
    epochs: int | None = Field(None, ge=1, le=2000)
    weight_decay: float = Field(0.0, ge=0)
    l2: float | None = Field(None, ge=0)
    pca_dim: int | None = Field(None, ge=1, le=8192)  # probe head on the top-k principal components
    student_view: str = Field("all", min_length=1, max_length=64)  # probe head on one feature view
    early_stop: bool = False  # stop when the misfit on held-out (weak) targets stops falling
    name: str | None = None  # free-form label, ignored by the engine

    def active(self, field: str) -> bool:
        return field_active(field, self.model_dump())

    def inactive_fields(self) -> set[str]:
        values = self.model_dump()
        return {f for f in CONDITIONS if not field_active(f, values)}


def _trust(
    kind: str, weak: np.ndarray, prior: np.ndarray | None, smoothed: np.ndarray | None, sure: np.ndarray
) -> np.ndarray:
    """Higher = more trusted example (`sure`: `StrongLabels.target_trust` of the targets)."""
    if kind == "weak_confidence":
        return np.abs(weak - 0.5) * 2
    if kind == "agreement":
        assert prior is not None
        return 1 - np.abs(weak - prior)
    if kind == "knn":
        from aarlab.w2s.methods.neighbours import knn_agreement

        assert smoothed is not None
        return knn_agreement(weak, smoothed)
    if kind == "target_confidence":
        return sure
    raise ValueError(kind)


def recipe_targets(r: Recipe, weak: np.ndarray, prior: np.ndarray | None) -> np.ndarray:
    """Targets of the label sources that need no strong features (weak labels, prior, mix)."""
    if r.label_source == "weak_hard":
        return (weak > 0.5).astype(np.float64)
    if r.label_source == "weak_soft":
        return weak
    if r.label_source in STRONG_SOURCES:
        raise ValueError(f"label_source {r.label_source!r} needs the strong features: use run_recipe")
    assert prior is not None
    if r.label_source == "strong_prior":
        return prior
    return (1 - r.mix_alpha) * weak + r.mix_alpha * prior


def parse_recipe(recipe: dict | Recipe) -> Recipe:
    """The recipe validated, its inactive fields at their defaults: two recipes that differ only in fields
    they ignore run alike by construction (the run key, `aar.methods.canonical_config`, counts them one)."""
    r = (
        recipe
        if isinstance(recipe, Recipe)
        else Recipe.model_validate({k: v for k, v in recipe.items() if k in Recipe.model_fields})
    )
    idle = r.inactive_fields()
    return r.model_copy(update={f: Recipe.model_fields[f].default for f in idle}) if idle else r


def run_recipe(ctx: IdeaContext, recipe: dict | Recipe) -> None:
    """Train the strong model as the recipe says and write ctx.output_dir/predictions.json (and what
    the label-source methods found, to ctx.output_dir/recipe_info.json)."""
    from aarlab.w2s.methods.targets import StrongLabels

    r = parse_recipe(recipe)
    mode = r.mode or ctx.mode
    if mode != "probe" and (r.pca_dim is not None or r.student_view != "all"):
        raise ValueError("pca_dim and student_view restrict the probe head: they apply in probe mode only")
    data = ctx.data
    texts_u, texts_t = data.texts("train_unlabel"), data.texts("test")
    weak = data.weak_soft(ctx.seed)
    labels = StrongLabels(ctx, r, texts_u, texts_t, weak)
    spec = TrainSpec(
        mode=mode,
        loss=r.loss,
        aux_alpha=r.aux_alpha,
        lr=r.lr,
        epochs=r.epochs,
        weight_decay=r.weight_decay,
        l2=r.l2,
        seed=ctx.seed,
        max_seconds=ctx.max_seconds,
        pca_dim=r.pca_dim,
        early_stop=r.early_stop,
        view=r.student_view,
    )
    base = labels.targets()
    sure = labels.target_trust(base)

    keep = np.ones(len(texts_u), dtype=bool)
    if r.filter != "none":
        s = _trust(r.filter, weak, labels.prior_if(r.filter), labels.smoothed_if(r.filter), sure)
        n_keep = max(2, int(round(r.filter_keep * len(s))))
        keep = np.zeros(len(s), dtype=bool)
        keep[np.argsort(-s, kind="stable")[:n_keep]] = True
    weights = None
    if r.reweight != "none":
        weights = (
            _trust(r.reweight, weak, labels.prior_if(r.reweight), labels.smoothed_if(r.reweight), sure) + 0.05
        )

    if r.relabel_dropped and not keep.all():
        from aarlab.w2s.methods.relabel import relabel_dropped

        def fit_predict(t: np.ndarray, k: np.ndarray) -> np.ndarray:
            return train_and_predict(ctx, texts_u, t, spec, keep=k, weights=weights, predict=[texts_u])[0]

        base = relabel_dropped(base, keep, fit_predict)
        labels.info["relabelled"] = int((~keep).sum())
        keep = np.ones(len(texts_u), dtype=bool)

    targets = base
    p_u, p_t = None, None
    for round_ in range(r.rounds):
        if round_ > 0:
            assert p_u is not None
            targets = 0.5 * base + 0.5 * p_u
        p_u, p_t = train_and_predict(
            ctx, texts_u, targets, spec, keep=keep, weights=weights, predict=[texts_u, texts_t]
        )
    assert p_u is not None and p_t is not None
    ctx.write_predictions((p_t > 0.5).astype(int).tolist(), (p_u > 0.5).astype(int).tolist())
    if labels.info:
        (ctx.output_dir / "recipe_info.json").write_text(json.dumps(labels.info, indent=1, default=str))


RUN_PY = '''"""A W2S recipe idea: the recipe is config.json (see aarlab.w2s.recipe.Recipe)."""

from aarlab.w2s.recipe import run_recipe


def main(ctx):
    run_recipe(ctx, ctx.config)
'''


def write_idea(folder: str | Path, recipe: dict | Recipe) -> Path:
    """Write an idea folder for a recipe: run.py + config.json (validated). Returns the folder."""
    r = recipe if isinstance(recipe, Recipe) else Recipe.model_validate(recipe)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run.py").write_text(RUN_PY)
    (folder / "config.json").write_text(json.dumps(r.model_dump(exclude_none=True), indent=1, sort_keys=True))
    return folder
