"""Built-in W2S research directions: a short statement, the components it focuses on, and seed recipes.

Each searcher agent gets one direction; it starts from the direction's seed recipes and, while it
explores, prefers to vary the direction's focus components. A run config may override the list
(`[[directions]]` tables with the same fields).
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from aarlab.w2s.recipe import Recipe


class Direction(BaseModel):
    name: str
    text: str
    focus: list[str] = Field(default_factory=list)  # recipe fields this direction varies first
    seeds: list[dict] = Field(min_length=1)  # seed recipes (validated against Recipe)
    # components the TPE policy holds while the agent is new to its direction (its family)
    fixed: dict = Field(default_factory=dict)

    def model_post_init(self, _context: object) -> None:
        for seed in self.seeds:
            Recipe.model_validate(seed)
        Recipe.model_validate(self.fixed)
        unknown = set(self.focus) - set(Recipe.model_fields)
        if unknown:
            raise ValueError(f"direction {self.name}: unknown focus fields {sorted(unknown)}")


DIRECTIONS: list[Direction] = [
    # the strong-structure families first: a team of n agents gives one agent to each at the start
    Direction(
        name="truth-direction",
        text="The strong model may already represent the truth: find an unsupervised direction in its frozen "
        "features (top principal components, cluster means, a two-cluster mixture, contrast-consistent "
        "search) and use the weak labels only to orient it, then train the student on its labels.",
        focus=["direction_method", "direction_candidates", "feature_dim", "filter", "relabel_dropped"],
        fixed={"label_source": "direction"},
        # one seed per method of the family: which one the model's structure suits is what is to be found
        seeds=[{"label_source": "direction", "direction_method": "pca", "direction_candidates": 4},
               {"label_source": "direction", "direction_method": "cluster_means"},
               {"label_source": "direction", "direction_method": "gmm"},
               {"label_source": "direction", "direction_method": "ccs"}],
    ),
    Direction(
        name="mutual-predictability",
        text="Search the labels of train_unlabel that the strong features predict best from each other "
        "(ICM: simulated annealing from the weak labels on k-fold probe log-likelihood, with a consistency "
        "term for answers to one question).",
        focus=[
            "icm_steps", "icm_flip_frac", "icm_consistency", "icm_temperature", "feature_dim", "input_labels"
        ],
        fixed={"label_source": "icm"},
        seeds=[{"label_source": "icm"}, {"label_source": "icm", "icm_steps": 100, "icm_flip_frac": 0.01}],
    ),
    Direction(
        name="neighbourhood-smoothing",
        text="A weak error rarely survives among its strong-feature neighbours: relabel each item by its k "
        "nearest neighbours' weak labels, or drop the items whose weak label disagrees with them.",
        focus=["knn_k", "feature_dim", "filter_keep", "relabel_dropped", "input_labels"],
        fixed={"label_source": "knn"},
        seeds=[{"label_source": "knn", "knn_k": 10},
               {"label_source": "weak_soft", "filter": "knn", "filter_keep": 0.7, "knn_k": 10}],
    ),
    Direction(
        name="noisy-channel",
        text="Treat weak labels as noisy observations of the truth: combine them with a strong prior "
        "(product of experts) or run EM over a weak-label confusion model with a cross-fitted strong probe.",
        focus=["channel_prior", "channel_em_iters", "channel_beta", "channel_alpha", "hard_targets"],
        fixed={"label_source": "channel"},
        seeds=[{"label_source": "channel", "channel_prior": "student", "channel_em_iters": 3},
               {"label_source": "channel", "channel_prior": "student", "channel_beta": 2.0}],
    ),
    Direction(
        name="composed-structure",
        text="Compose two strong-structure methods: run label search (icm) or neighbourhood smoothing (knn) "
        "on the labels of another one (a truth direction, icm, a noisy-channel posterior) instead of the "
        "raw weak labels, so the second starts where the first left off; vary the first stage and the "
        "feature space both share.",
        focus=["input_labels", "direction_method", "feature_dim", "icm_steps", "knn_k", "filter"],
        fixed={"label_source": "icm", "input_labels": "direction"},
        seeds=[{"label_source": "icm", "input_labels": "direction"},
               {"label_source": "knn", "input_labels": "icm"}],
    ),
    Direction(
        name="capacity-control",
        text="For a convex student the gain over the weak model is its misfit on the weak labels: restrict "
        "the probe to the top principal components (or stop early on held-out weak-label misfit), so it "
        "cannot fit the weak errors, and let it trust its own confident predictions.",
        focus=["pca_dim", "loss", "aux_alpha", "filter", "filter_keep", "early_stop", "l2"],
        fixed={"mode": "probe"},
        seeds=[{"mode": "probe", "pca_dim": 16}, {"mode": "probe", "pca_dim": 16, "loss": "aux_conf"}],
    ),
    Direction(
        name="filter-then-relabel",
        text="Train on the weak labels the filter trusts, let that student relabel what the filter dropped, "
        "and train again on everything.",
        focus=["filter", "filter_keep", "relabel_dropped", "label_source"],
        fixed={"relabel_dropped": True, "filter": "weak_confidence"},
        seeds=[{"filter": "weak_confidence", "filter_keep": 0.5, "relabel_dropped": True},
               {"filter": "weak_confidence", "filter_keep": 0.7, "relabel_dropped": True,
                "loss": "aux_conf"}],
    ),
    Direction(
        name="auxiliary-confidence",
        text="Auxiliary confidence loss (Burns et al. 2023): let the strong model trust its own "
        "confident predictions over the weak labels as training proceeds.",
        focus=["aux_alpha", "loss", "lr"],
        seeds=[{"loss": "aux_conf", "aux_alpha": 0.5}, {"loss": "aux_conf", "aux_alpha": 0.25}],
    ),
    Direction(
        name="finetune-transfer",
        text="Fine-tune the whole strong model rather than a probe on frozen features: more capacity to "
        "generalise beyond the weak labels, and more to overfit them.",
        focus=["mode", "lr", "epochs", "loss"],
        seeds=[{"mode": "finetune"}, {"mode": "finetune", "loss": "aux_conf", "aux_alpha": 0.5}],
    ),
    Direction(
        name="self-training",
        text="Self-training: after a first fit, relabel train_unlabel with the strong model's own "
        "predictions mixed with the weak labels and train again.",
        focus=["rounds", "label_source", "filter"],
        seeds=[{"rounds": 2}, {"rounds": 3, "label_source": "weak_hard"}],
    ),
    Direction(
        name="soft-label-tuning",
        text="Naive transfer done well: train on the weak soft labels and tune optimisation and "
        "regularisation (lr, epochs, l2) so the strong model does not imitate the weak model's errors.",
        focus=["lr", "epochs", "l2", "weight_decay"],
        seeds=[{"label_source": "weak_soft"}, {"label_source": "weak_soft", "l2": 0.1, "epochs": 50}],
    ),
    Direction(
        name="confidence-filtering",
        text="Keep only the train_unlabel examples where the weak model is confident: errors of the "
        "weak supervisor concentrate where it is unsure.",
        focus=["filter_keep", "filter", "label_source"],
        seeds=[
            {"filter": "weak_confidence", "filter_keep": 0.5},
            {"filter": "weak_confidence", "filter_keep": 0.8},
        ],
    ),
    Direction(
        name="confidence-reweighting",
        text="Instead of discarding unsure examples, down-weight them by the weak model's confidence.",
        focus=["reweight", "label_source", "loss"],
        seeds=[{"reweight": "weak_confidence"}, {"reweight": "weak_confidence", "label_source": "weak_hard"}],
    ),
    Direction(
        name="robust-losses",
        text="Treat weak labels as noisy labels: robust losses (generalised cross-entropy, bootstrapping) "
        "bound the pull of mislabeled examples.",
        focus=["loss", "aux_alpha", "label_source"],
        seeds=[{"loss": "gce", "label_source": "weak_hard"}, {"loss": "bootstrap", "aux_alpha": 0.3}],
    ),
    Direction(
        name="strong-prior-mixing",
        text="The strong model already knows much of the task: mix its zero-shot prior into the weak "
        "labels so the targets carry both sources of evidence.",
        focus=["mix_alpha", "label_source"],
        seeds=[{"label_source": "mix", "mix_alpha": 0.3}, {"label_source": "mix", "mix_alpha": 0.6}],
    ),
    Direction(
        name="agreement-filtering",
        text="Where the weak supervisor and the strong model's prior agree the label is likely right: "
        "filter or weight by their agreement.",
        focus=["filter", "filter_keep", "reweight"],
        seeds=[{"filter": "agreement", "filter_keep": 0.6}, {"reweight": "agreement"}],
    ),
    Direction(
        name="hard-label-denoising",
        text="Hard weak labels with explicit denoising: threshold, then drop or down-weight the least "
        "confident part and train with a noise-tolerant loss.",
        focus=["filter_keep", "loss", "reweight"],
        seeds=[
            {"label_source": "weak_hard", "filter": "weak_confidence", "filter_keep": 0.6},
            {"label_source": "weak_hard", "loss": "bootstrap", "aux_alpha": 0.5},
        ],
    ),
    Direction(
        name="prior-only-and-beyond",
        text="How far does the strong prior alone go, and what do the weak labels add on top of it? "
        "Start from zero-shot pseudo-labels and move towards the weak labels.",
        focus=["label_source", "mix_alpha", "rounds"],
        seeds=[{"label_source": "strong_prior"}, {"label_source": "mix", "mix_alpha": 0.8}],
    ),
]


def directions_from(override: list[dict] | None) -> list[Direction]:
    """The built-in list, or the config's list where one is given."""
    if not override:
        return list(DIRECTIONS)
    return [Direction.model_validate(d) for d in override]


def direction_by_name(name: str, directions: list[Direction] | None = None) -> Direction:
    for d in directions or DIRECTIONS:
        if d.name == name:
            return d
    raise KeyError(f"unknown direction {name!r}; known: {[d.name for d in directions or DIRECTIONS]}")


def assign_directions(
    n: int, names: list[str] | None = None, directions: list[Direction] | None = None
) -> list[str]:
    """Direction names for n agents: given names (cycled) or the list in order; distinct while n allows."""
    pool = names or [d.name for d in (directions or DIRECTIONS)]
    return [pool[i % len(pool)] for i in range(n)]
