"""A recipe in words (`aar.methods.describe_recipe`) names what the recipe does, not its default fields."""

from __future__ import annotations

from aar import methods
from aarlab.w2s.recipe import Recipe


def test_the_light_copy_of_the_recipe_defaults_matches_the_recipe() -> None:
    full = Recipe().model_dump()
    full.pop("name")
    assert methods.RECIPE_DEFAULTS == full


def test_a_written_out_recipe_reads_as_what_it_changes() -> None:
    written = {**Recipe(pca_dim=16, loss="aux_conf").model_dump(), "name": "idea-005"}
    words = methods.describe_recipe({k: v for k, v in written.items() if k != "name"})
    assert "top 16 principal components" in words and "auxiliary-confidence" in words
    assert "channel" not in words and "knn" not in words  # inactive fields left at their defaults
    icm = methods.describe_recipe({"label_source": "icm", "icm_steps": 100, "icm_temperature": 3.0})
    assert "mutual-predictability" in icm and "100 annealing steps" in icm and "icm temperature 3.0" in icm
