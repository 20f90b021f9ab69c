"""The typed space of W2S recipes the searcher moves in: canonical form, one-factor mutations, crossover.

Mutations change one component at a time, so the effect of a change can be attributed to it; numeric
hyper-parameters move on a log or linear grid around their current value.
"""

from __future__ import annotations

import json
from typing import Any

from aarlab.w2s.recipe import Recipe

CATEGORICAL: dict[str, list[Any]] = {
    "mode": ["probe", "finetune"],
    "label_source": ["weak_hard", "weak_soft", "strong_prior", "mix"],
    "filter": ["none", "weak_confidence", "agreement"],
    "reweight": ["none", "weak_confidence", "agreement"],
    "loss": ["ce", "aux_conf", "bootstrap", "gce"],
    "rounds": [1, 2, 3],
}
# numeric grids; None in `lr`/`epochs`/`l2` means the trainer's default for the mode
GRIDS: dict[str, list[Any]] = {
    "mix_alpha": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
    "filter_keep": [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9],
    "aux_alpha": [0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9],
    "lr": [None, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1],
    "epochs": [None, 5, 10, 20, 50, 100, 200],
    "l2": [None, 0.0, 0.001, 0.01, 0.1, 1.0],
    "weight_decay": [0.0, 0.001, 0.01, 0.1],
}
COMPONENTS = list(CATEGORICAL) + list(GRIDS)
# a parameter only matters when its switch is on
REQUIRES: dict[str, tuple[str, tuple[Any, ...]]] = {
    "mix_alpha": ("label_source", ("mix",)),
    "filter_keep": ("filter", ("weak_confidence", "agreement")),
    "aux_alpha": ("loss", ("aux_conf", "bootstrap")),
}


def normalize(recipe: dict) -> dict:
    """Validated, with defaults filled and the free-form name dropped."""
    full = Recipe.model_validate({k: v for k, v in recipe.items() if k in Recipe.model_fields}).model_dump()
    full.pop("name", None)
    return full


def key(recipe: dict) -> str:
    """Canonical identity of a recipe: inactive parameters do not make two recipes different."""
    r = normalize(recipe)
    for param, (switch, on) in REQUIRES.items():
        if r[switch] not in on:
            r[param] = None
    if r["mode"] is None:
        r["mode"] = "probe"
    return json.dumps(r, sort_keys=True)


def diff(a: dict, b: dict) -> dict[str, tuple[Any, Any]]:
    """Active components that differ: {field: (a value, b value)}."""
    ka, kb = json.loads(key(a)), json.loads(key(b))
    return {f: (ka[f], kb[f]) for f in ka if ka[f] != kb[f]}


def compact(recipe: dict) -> dict:
    """Only the fields that differ from the defaults (what write_idea stores, minus None)."""
    defaults = Recipe().model_dump()
    return {k: v for k, v in normalize(recipe).items() if v is not None and v != defaults.get(k)}


def active(component: str, recipe: dict) -> bool:
    if component not in REQUIRES:
        return True
    switch, on = REQUIRES[component]
    return normalize(recipe)[switch] in on


def neighbours(component: str, recipe: dict, modes: list[str] | None = None, wide: bool = False) -> list[Any]:
    """Values one grid step away for a component (every other value with `wide`, and always for
    categorical ones)."""
    current = normalize(recipe)[component]
    if component in CATEGORICAL:
        values = CATEGORICAL[component]
        if component == "mode" and modes:
            values = list(modes)
        if component == "mode" and current is None:
            current = modes[0] if modes else "probe"
        return [v for v in values if v != current]
    grid = GRIDS[component]
    if wide:
        return [g for g in grid if g != current]
    if current not in grid:
        nums = [g for g in grid if g is not None]
        nearest = min(nums, key=lambda g: abs(g - current))
        current = nearest
    i = grid.index(current)
    return [grid[j] for j in (i - 1, i + 1) if 0 <= j < len(grid) and grid[j] != normalize(recipe)[component]]


def mutate(recipe: dict, component: str, value: Any) -> dict:
    """The recipe with one component set; switching a parameter's switch on gives it a sane value."""
    r = normalize(recipe)
    r[component] = value
    return normalize(r)


def combine(a: dict, b: dict, take: list[str]) -> dict:
    """Recipe `a` with the components in `take` copied from `b` (with the parameters they switch on)."""
    r, rb = normalize(a), normalize(b)
    for f in take:
        r[f] = rb[f]
        for param, (switch, _) in REQUIRES.items():
            if switch == f:
                r[param] = rb[param]
    return normalize(r)
