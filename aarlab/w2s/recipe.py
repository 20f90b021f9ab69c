"""W2S recipes: a typed, JSON-able description of a weak-to-strong method, and its engine.

A recipe picks the label source (weak hard/soft labels, the strong model's own prior, or a mix),
an optional filter and reweighting of `train_unlabel`, a loss, a number of self-training rounds,
and the training mode with its hyper-parameters. `run_recipe(ctx, recipe)` trains the strong model
accordingly and writes predictions.json.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from aarlab.w2s.idea import IdeaContext
from aarlab.w2s.training import TrainSpec, train_and_predict


class Recipe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["probe", "finetune"] | None = None  # None: the context's mode
    label_source: Literal["weak_hard", "weak_soft", "strong_prior", "mix"] = "weak_soft"
    mix_alpha: float = Field(0.5, ge=0, le=1)
    filter: Literal["none", "weak_confidence", "agreement"] = "none"
    filter_keep: float = Field(0.7, gt=0, le=1)
    reweight: Literal["none", "weak_confidence", "agreement"] = "none"
    loss: Literal["ce", "aux_conf", "bootstrap", "gce"] = "ce"
    aux_alpha: float = Field(0.5, ge=0, le=1)
    rounds: int = Field(1, ge=1, le=5)
    lr: float | None = Field(None, gt=0)
    epochs: int | None = Field(None, ge=1, le=2000)
    weight_decay: float = Field(0.0, ge=0)
    l2: float | None = Field(None, ge=0)
    name: str | None = None  # free-form label, ignored by the engine


def _scores(kind: str, weak: np.ndarray, prior: np.ndarray | None) -> np.ndarray:
    """Higher = more trusted example."""
    if kind == "weak_confidence":
        return np.abs(weak - 0.5) * 2
    if kind == "agreement":
        assert prior is not None
        return 1 - np.abs(weak - prior)
    raise ValueError(kind)


def recipe_targets(r: Recipe, weak: np.ndarray, prior: np.ndarray | None) -> np.ndarray:
    if r.label_source == "weak_hard":
        return (weak > 0.5).astype(np.float64)
    if r.label_source == "weak_soft":
        return weak
    assert prior is not None
    if r.label_source == "strong_prior":
        return prior
    return (1 - r.mix_alpha) * weak + r.mix_alpha * prior


def run_recipe(ctx: IdeaContext, recipe: dict | Recipe) -> None:
    """Train the strong model as the recipe says and write ctx.output_dir/predictions.json."""
    r = recipe if isinstance(recipe, Recipe) else Recipe.model_validate(
        {k: v for k, v in recipe.items() if k in Recipe.model_fields})
    mode = r.mode or ctx.mode
    data = ctx.data
    texts_u, texts_t = data.texts("train_unlabel"), data.texts("test")
    weak = data.weak_soft(ctx.seed)
    needs_prior = r.label_source in ("strong_prior", "mix") or "agreement" in (r.filter, r.reweight)
    prior = None
    if needs_prior:
        from aarlab.w2s.models import get_backend

        prior = get_backend(ctx.strong_model).zero_shot(texts_u)
    targets = recipe_targets(r, weak, prior)

    keep = np.ones(len(texts_u), dtype=bool)
    if r.filter != "none":
        s = _scores(r.filter, weak, prior)
        n_keep = max(2, int(round(r.filter_keep * len(s))))
        keep = np.zeros(len(s), dtype=bool)
        keep[np.argsort(-s, kind="stable")[:n_keep]] = True
    weights = None
    if r.reweight != "none":
        weights = _scores(r.reweight, weak, prior) + 0.05

    spec = TrainSpec(mode=mode, loss=r.loss, aux_alpha=r.aux_alpha, lr=r.lr, epochs=r.epochs,
                     weight_decay=r.weight_decay, l2=r.l2, seed=ctx.seed, max_seconds=ctx.max_seconds)
    p_u, p_t = None, None
    for round_ in range(r.rounds):
        if round_ > 0:
            assert p_u is not None
            targets = 0.5 * recipe_targets(r, weak, prior) + 0.5 * p_u
        p_u, p_t = train_and_predict(ctx, texts_u, targets, spec, keep=keep, weights=weights,
                                     predict=[texts_u, texts_t])
    assert p_u is not None and p_t is not None
    ctx.write_predictions((p_t > 0.5).astype(int).tolist(), (p_u > 0.5).astype(int).tolist())


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
