"""The recipe engine: validation, write_idea, and every option running on the tiny zoo."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydantic
import pytest

from aarlab.w2s.idea import IdeaContext
from aarlab.w2s.recipe import Recipe, recipe_targets, run_recipe, write_idea
from aarlab.w2s.run_idea import make_context, run_idea


def test_recipe_validation() -> None:
    assert Recipe.model_validate({}).label_source == "weak_soft"
    for bad in ({"loss": "mse"}, {"filter_keep": 0}, {"rounds": 0}, {"mix_alpha": 2}, {"bogus": 1},
                {"mode": "train"}):
        with pytest.raises(pydantic.ValidationError):
            Recipe.model_validate(bad)


def test_targets() -> None:
    weak, prior = np.array([0.2, 0.9]), np.array([0.6, 0.4])
    assert recipe_targets(Recipe(label_source="weak_hard"), weak, prior).tolist() == [0, 1]
    assert recipe_targets(Recipe(label_source="strong_prior"), weak, prior).tolist() == [0.6, 0.4]
    mix = recipe_targets(Recipe(label_source="mix", mix_alpha=0.25), weak, prior)
    assert mix == pytest.approx([0.75 * 0.2 + 0.25 * 0.6, 0.75 * 0.9 + 0.25 * 0.4])


def test_write_idea_round_trip(tiny_tasks: Path, tmp_path: Path) -> None:
    folder = write_idea(tmp_path / "idea", {"loss": "gce", "filter": "agreement", "filter_keep": 0.6})
    cfg = json.loads((folder / "config.json").read_text())
    assert cfg["loss"] == "gce" and cfg["filter"] == "agreement"
    preds = run_idea(folder, tiny_tasks / "world" / "main" / "public", tmp_path / "out", seed=1)
    assert len(preds["test"]) == len(preds["test"]) and "train_unlabel" in preds
    with pytest.raises(pydantic.ValidationError):
        write_idea(tmp_path / "bad", {"loss": "nope"})


RECIPES = [
    {"label_source": "mix", "mix_alpha": 0.3, "reweight": "agreement"},
    {"label_source": "weak_hard", "filter": "weak_confidence", "filter_keep": 0.4, "loss": "bootstrap"},
    {"label_source": "weak_soft", "reweight": "weak_confidence", "loss": "aux_conf", "rounds": 2},
    {"label_source": "weak_soft", "loss": "gce", "lr": 0.01, "epochs": 50, "l2": 0.01, "weight_decay": 0.01},
]


@pytest.mark.parametrize("mode", ["probe", "finetune"])
@pytest.mark.parametrize("recipe", RECIPES, ids=lambda r: "-".join(str(v) for v in r.values()))
def test_recipe_options_run(tiny_tasks: Path, tmp_path: Path, recipe: dict, mode: str) -> None:
    folder = write_idea(tmp_path / "idea", recipe)
    data = tiny_tasks / "math" / "main" / "public"
    ctx: IdeaContext = make_context(folder, data, tmp_path / "out", 0, mode=mode)
    run_recipe(ctx, ctx.config)
    preds = json.loads((tmp_path / "out" / "predictions.json").read_text())
    assert len(preds["test"]) == ctx.data.meta["n"]["test"]
    assert set(preds["test"]) <= {0, 1}


def test_recipe_is_deterministic(tiny_tasks: Path, tmp_path: Path) -> None:
    folder = write_idea(tmp_path / "idea", {"label_source": "weak_soft", "loss": "aux_conf"})
    data = tiny_tasks / "code" / "main" / "public"
    a = run_idea(folder, data, tmp_path / "a", seed=3, mode="finetune")
    b = run_idea(folder, data, tmp_path / "b", seed=3, mode="finetune")
    assert a == b
