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


# -- strong-structure label sources and capacity control ----------------------------------------------

NEW_RECIPES = [
    {"label_source": "direction", "direction_method": "pca", "direction_candidates": 2},
    {"label_source": "direction", "direction_method": "cluster_means", "feature_view": "surprise"},
    {"label_source": "direction", "direction_method": "gmm", "feature_dim": 4, "hard_targets": True},
    {"label_source": "direction", "direction_method": "ccs", "feature_view": "all"},
    {"label_source": "icm", "icm_steps": 5, "icm_consistency": 2.0},
    {"label_source": "knn", "knn_k": 5, "feature_dim": 8},
    {"label_source": "weak_soft", "filter": "knn", "filter_keep": 0.6, "relabel_dropped": True},
    {"label_source": "channel", "channel_prior": "student", "channel_em_iters": 2},
    {"label_source": "channel", "channel_prior": "zero_shot", "channel_beta": 2.0},
    {"label_source": "channel", "channel_prior": "direction", "direction_method": "pca"},
    {"label_source": "direction", "filter": "target_confidence", "filter_keep": 0.5, "reweight": "knn"},
    {"label_source": "weak_soft", "early_stop": True, "loss": "aux_conf"},
    {"label_source": "icm", "icm_steps": 5, "input_labels": "direction", "direction_method": "gmm"},
    {"label_source": "knn", "knn_k": 5, "input_labels": "icm", "icm_steps": 5, "hard_targets": True},
]


@pytest.mark.parametrize("mode", ["probe", "finetune"])
@pytest.mark.parametrize("recipe", NEW_RECIPES, ids=lambda r: "-".join(str(v) for v in r.values()))
def test_strong_structure_recipes_run(tiny_tasks: Path, tmp_path: Path, recipe: dict, mode: str) -> None:
    folder = write_idea(tmp_path / "idea", recipe)
    data = tiny_tasks / "math" / "main" / "public"
    ctx: IdeaContext = make_context(folder, data, tmp_path / "out", 0, mode=mode)
    run_recipe(ctx, ctx.config)
    preds = json.loads((tmp_path / "out" / "predictions.json").read_text())
    assert len(preds["test"]) == ctx.data.meta["n"]["test"] and set(preds["test"]) <= {0, 1}
    if recipe["label_source"] != "weak_soft" or recipe.get("filter") == "knn":
        info = json.loads((tmp_path / "out" / "recipe_info.json").read_text())
        uses_features = recipe.get("channel_prior") != "zero_shot"
        assert (info["feature_view"] in ("all", "hidden", "surprise")) if uses_features else "channel" in info
        if recipe["label_source"] == "direction":
            assert info["direction"]["method"] == recipe.get("direction_method", "pca")
        if "input_labels" in recipe:  # the first stage ran and its findings are kept beside the second's
            first = info["input"]
            assert first["label_source"] == recipe["input_labels"] and recipe["input_labels"] in first


def test_probe_capacity_options_run_and_are_refused_in_finetune(tiny_tasks: Path, tmp_path: Path) -> None:
    data = tiny_tasks / "world" / "main" / "public"
    options = [{"pca_dim": 4}, {"student_view": "auto"}, {"student_view": "surprise", "pca_dim": 3}]
    for i, r in enumerate(options):
        run_idea(write_idea(tmp_path / f"idea{i}", r), data, tmp_path / f"out{i}", seed=0, mode="probe")
        with pytest.raises(ValueError, match="probe mode only"):
            run_idea(write_idea(tmp_path / f"ft{i}", r), data, tmp_path / f"ft{i}", seed=0, mode="finetune")


def test_unknown_feature_view_is_a_clear_error(tiny_tasks: Path, tmp_path: Path) -> None:
    folder = write_idea(tmp_path / "idea", {"label_source": "knn", "feature_view": "nope"})
    with pytest.raises(ValueError, match="unknown feature view 'nope'.*surprise"):
        run_idea(folder, tiny_tasks / "math" / "main" / "public", tmp_path / "out", seed=0)


def test_conditional_fields_and_old_configs() -> None:
    assert "mix_alpha" in Recipe().inactive_fields()
    assert not Recipe(label_source="mix").inactive_fields() & {"mix_alpha"}
    r = Recipe(label_source="channel", channel_prior="direction")
    assert r.active("direction_method") and r.active("direction_candidates") and not r.active("icm_steps")
    assert not Recipe(label_source="channel").active("direction_method")
    assert not Recipe(label_source="direction", direction_method="ccs").active("direction_candidates")
    assert Recipe(filter="knn").active("knn_k") and Recipe(filter="knn").active("relabel_dropped")
    assert not Recipe(mode="finetune").active("pca_dim") and Recipe(mode="finetune").active("early_stop")
    composed = Recipe(label_source="knn", input_labels="icm")
    assert composed.active("icm_steps") and composed.active("knn_k")
    assert not composed.active("direction_method")
    assert Recipe(label_source="icm", input_labels="direction").active("direction_candidates")
    assert not Recipe(label_source="direction", input_labels="icm").active("icm_steps")  # input unused
    # a config.json written before the strong-structure fields existed still loads, unchanged
    old = {"aux_alpha": 0.5, "filter": "none", "filter_keep": 0.7, "label_source": "weak_soft",
           "loss": "aux_conf", "mix_alpha": 0.5, "name": "aux_confidence", "reweight": "none", "rounds": 1,
           "weight_decay": 0.0}
    r = Recipe.model_validate(old)
    assert r.model_dump(include=set(old)) == old and r.student_view == "all" and not r.early_stop
    for bad in ({"label_source": "ccs"}, {"direction_method": "lda"}, {"knn_k": 0}, {"icm_flip_frac": 0},
                {"feature_view": ""}, {"channel_prior": "oracle"}):
        with pytest.raises(pydantic.ValidationError):
            Recipe.model_validate(bad)
