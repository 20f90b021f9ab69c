"""When a recipe field matters: plain data and one function, with no import of torch or numpy, so the
server's method keys (`aar.methods`) and the searcher's space read the same table as the recipe engine."""

from __future__ import annotations

from typing import Any

STRONG_SOURCES = ("direction", "icm", "knn", "channel")

# field -> alternatives; a field is active when, for one alternative, every named switch is itself
# active and holds one of the listed values (fields not named here are always active)
CONDITIONS: dict[str, list[dict[str, tuple[Any, ...]]]] = {
    "mix_alpha": [{"label_source": ("mix",)}],
    "feature_view": [{"label_source": STRONG_SOURCES}, {"filter": ("knn",)}, {"reweight": ("knn",)}],
    "feature_dim": [{"label_source": STRONG_SOURCES}, {"filter": ("knn",)}, {"reweight": ("knn",)}],
    "direction_method": [
        {"label_source": ("direction",)},
        {"label_source": ("channel",), "channel_prior": ("direction",)},
        {"input_labels": ("direction",)},
        {"input_labels": ("channel",), "channel_prior": ("direction",)},
    ],
    "direction_candidates": [{"direction_method": ("pca",)}],
    "icm_steps": [{"label_source": ("icm",)}, {"input_labels": ("icm",)}],
    "icm_flip_frac": [{"label_source": ("icm",)}, {"input_labels": ("icm",)}],
    "icm_temperature": [{"label_source": ("icm",)}, {"input_labels": ("icm",)}],
    "icm_consistency": [{"label_source": ("icm",)}, {"input_labels": ("icm",)}],
    "icm_question_sep": [{"label_source": ("icm",)}, {"input_labels": ("icm",)}],
    "knn_k": [
        {"label_source": ("knn",)},
        {"filter": ("knn",)},
        {"reweight": ("knn",)},
        {"input_labels": ("knn",)},
    ],
    "input_labels": [{"label_source": ("icm", "knn")}],
    "channel_prior": [{"label_source": ("channel",)}, {"input_labels": ("channel",)}],
    "channel_em_iters": [{"label_source": ("channel",)}, {"input_labels": ("channel",)}],
    "channel_beta": [{"label_source": ("channel",)}, {"input_labels": ("channel",)}],
    "channel_alpha": [{"label_source": ("channel",)}, {"input_labels": ("channel",)}],
    "hard_targets": [{"label_source": ("strong_prior", "mix", "direction", "knn", "channel")}],
    "filter_keep": [{"filter": ("weak_confidence", "agreement", "knn", "target_confidence")}],
    "relabel_dropped": [{"filter": ("weak_confidence", "agreement", "knn", "target_confidence")}],
    "aux_alpha": [{"loss": ("aux_conf", "bootstrap")}],
    "pca_dim": [{"mode": ("probe", None)}],
    "student_view": [{"mode": ("probe", None)}],
}


def field_active(field: str, values: dict[str, Any]) -> bool:
    alts = CONDITIONS.get(field)
    if alts is None:
        return True
    return any(
        all(field_active(sw, values) and values.get(sw) in ok for sw, ok in alt.items()) for alt in alts
    )
