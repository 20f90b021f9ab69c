"""The typed space of W2S recipes the searcher moves in: canonical form, one-factor mutations, crossover.

Which fields exist and when a field matters come from `aarlab.w2s.recipe` (`Recipe`, `CONDITIONS`);
this module adds the values the searcher tries. Mutations change one component at a time, so the
effect of a change can be attributed to it; numeric hyper-parameters move on a grid around their
current value. The TPE policy (`tpe.py`) uses the same components, values and conditions as its
conditional search space.
"""

from __future__ import annotations

import json
from typing import Any

from aarlab.w2s.recipe import CONDITIONS, Recipe, field_active

CATEGORICAL: dict[str, list[Any]] = {
    "mode": ["probe", "finetune"],
    "label_source": ["weak_hard", "weak_soft", "strong_prior", "mix", "direction", "icm", "knn", "channel"],
    "input_labels": ["weak", "direction", "icm", "knn", "channel"],
    "feature_view": ["auto", "all"],  # the backend's named blocks are not listed: they differ by backend
    "channel_prior": ["student", "zero_shot", "direction"],
    "direction_method": ["pca", "cluster_means", "gmm", "ccs"],
    "hard_targets": [False, True],
    "filter": ["none", "weak_confidence", "agreement", "knn", "target_confidence"],
    "relabel_dropped": [False, True],
    "reweight": ["none", "weak_confidence", "agreement", "knn", "target_confidence"],
    "loss": ["ce", "aux_conf", "bootstrap", "gce"],
    "rounds": [1, 2, 3],
    "early_stop": [False, True],
    "student_view": ["all", "auto"],
}
# numeric grids; None in `lr`/`epochs`/`l2` means the trainer's default for the mode, in `feature_dim` and
# `pca_dim` all features
GRIDS: dict[str, list[Any]] = {
    "mix_alpha": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
    "feature_dim": [None, 8, 16, 32, 64],
    "direction_candidates": [1, 2, 4, 8, 16],
    "icm_steps": [20, 40, 60, 100, 150],
    "icm_flip_frac": [0.005, 0.01, 0.02, 0.05],
    "icm_temperature": [0.1, 0.3, 1.0, 3.0],
    "icm_consistency": [0.0, 0.5, 2.0, 5.0],
    "knn_k": [3, 5, 10, 20, 50],
    "channel_em_iters": [0, 1, 3, 5, 10],
    "channel_beta": [0.5, 1.0, 2.0, 4.0],
    "channel_alpha": [0.25, 0.5, 1.0, 2.0],
    "filter_keep": [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
    "aux_alpha": [0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9],
    "lr": [None, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1],
    "epochs": [None, 5, 10, 20, 50, 100, 200],
    "l2": [None, 0.0, 0.001, 0.01, 0.1, 1.0],
    "weight_decay": [0.0, 0.001, 0.01, 0.1],
    "pca_dim": [None, 4, 8, 12, 16, 20, 24, 32, 48, 64],  # fine where a probe turns from too few to too many
}
# switches before the parameters they switch on (the order a define-by-run search suggests them in)
COMPONENTS = list(CATEGORICAL) + list(GRIDS)
CONDITIONAL = [c for c in COMPONENTS if c in CONDITIONS]


def switches(component: str) -> set[str]:
    """The fields whose values decide whether `component` is active (transitively)."""
    out: set[str] = set()
    for alt in CONDITIONS.get(component, []):
        for sw in alt:
            out |= {sw} | switches(sw)
    return out


def values(component: str) -> list[Any]:
    return CATEGORICAL[component] if component in CATEGORICAL else GRIDS[component]


def normalize(recipe: dict) -> dict:
    """Validated, with defaults filled and the free-form name dropped."""
    full = Recipe.model_validate({k: v for k, v in recipe.items() if k in Recipe.model_fields}).model_dump()
    full.pop("name", None)
    return full


def key(recipe: dict) -> str:
    """Canonical identity of a recipe: inactive parameters do not make two recipes different."""
    r = normalize(recipe)
    if r["mode"] is None:
        r["mode"] = "probe"
    for param in [f for f in CONDITIONS if not field_active(f, r)]:
        r[param] = None
    return json.dumps(r, sort_keys=True)


def diff(a: dict, b: dict) -> dict[str, tuple[Any, Any]]:
    """Active components that differ: {field: (a value, b value)}."""
    ka, kb = json.loads(key(a)), json.loads(key(b))
    return {f: (ka[f], kb[f]) for f in ka if ka[f] != kb[f]}


def compact(recipe: dict) -> dict:
    """Only the active fields that differ from the defaults (what write_idea stores, minus None)."""
    defaults = Recipe().model_dump()
    k = json.loads(key(recipe))
    r = normalize(recipe)
    return {f: v for f, v in r.items() if v is not None and v != defaults.get(f) and k.get(f) is not None}


def active(component: str, recipe: dict) -> bool:
    r = normalize(recipe)
    if r["mode"] is None:
        r["mode"] = "probe"
    return field_active(component, r)


def neighbours(component: str, recipe: dict, modes: list[str] | None = None, wide: bool = False) -> list[Any]:
    """Values one grid step away for a component (every other value with `wide`, and always for
    categorical ones)."""
    current = normalize(recipe)[component]
    if component in CATEGORICAL:
        vals = CATEGORICAL[component]
        if component == "mode" and modes:
            vals = list(modes)
        if component == "mode" and current is None:
            current = modes[0] if modes else "probe"
        return [v for v in vals if v != current]
    grid = GRIDS[component]
    if wide:
        return [g for g in grid if g != current]
    if current not in grid:
        nums = [g for g in grid if g is not None]
        current = min(nums, key=lambda g: abs(g - current)) if current is not None else grid[0]
    i = grid.index(current)
    return [grid[j] for j in (i - 1, i + 1) if 0 <= j < len(grid) and grid[j] != normalize(recipe)[component]]


def mutate(recipe: dict, component: str, value: Any) -> dict:
    """The recipe with one component set; switching a parameter's switch on gives it its default."""
    r = normalize(recipe)
    r[component] = value
    return normalize(r)


def combine(a: dict, b: dict, take: list[str]) -> dict:
    """Recipe `a` with the components in `take` copied from `b` (with the parameters they switch on)."""
    r, rb = normalize(a), normalize(b)
    for f in take:
        r[f] = rb[f]
        for param in CONDITIONAL:
            if f in switches(param):
                r[param] = rb[param]
    return normalize(r)


# label sources that can take another source's labels as their input, and those that can be an input
SECOND_STAGES = ("icm", "knn")
FIRST_STAGES = ("direction", "icm", "knn", "channel")


def plain(recipe: dict) -> bool:
    """A recipe whose label source reads the weak labels themselves (no `input_labels` stage in use)."""
    return not active("input_labels", recipe) or normalize(recipe)["input_labels"] == "weak"


def compose(first: dict, second: dict) -> dict | None:
    """Recipe `second` (an icm or knn recipe) run on the labels of `first`'s label source instead of the
    weak labels: `first`'s label-stage parameters and feature space come along, `second`'s student
    and the rest stay. None where the two do not compose (same source, or not a first/second stage)."""
    a, b = normalize(first), normalize(second)
    if (
        b["label_source"] not in SECOND_STAGES
        or a["label_source"] not in FIRST_STAGES
        or a["label_source"] == b["label_source"]
        or not plain(a)
    ):
        return None
    a["input_labels"] = "weak"  # where it is inactive (a direction, a channel) it may hold a stale value
    r = {**b, "input_labels": a["label_source"], "feature_dim": a["feature_dim"]}
    r["feature_view"] = a["feature_view"]
    for comp in COMPONENTS:  # switches before parameters: what the input switches on comes from `first`
        if comp in CONDITIONAL and active(comp, r) and not active(comp, b):
            r[comp] = a[comp]
    return normalize(r)


def nearest(component: str, value: Any) -> Any:
    """The searched value closest to `value` (for recipes from elsewhere, e.g. a colleague's)."""
    vals = values(component)
    if value in vals:
        return value
    nums = [v for v in vals if isinstance(v, int | float) and not isinstance(v, bool)]
    if isinstance(value, int | float) and not isinstance(value, bool) and nums:
        return min(nums, key=lambda v: abs(v - value))
    return vals[0]
