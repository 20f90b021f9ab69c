"""What a searcher records: trials (evaluated recipes), proposals (recipes to try), insights; shared by
the local policy (`policy.py`) and the TPE policy (`tpe.py`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import mean
from typing import Any

from aar.agents.searcher import space

RATIONALE: dict[str, str] = {
    "label_source=weak_hard": "hard weak labels remove the weak model's miscalibration from the targets",
    "label_source=weak_soft": "soft weak labels keep the weak model's uncertainty in the targets",
    "label_source=strong_prior": "the strong model's zero-shot prior may already beat the weak supervisor",
    "label_source=mix": "mixing the strong prior into weak labels joins two independent sources",
    "filter=weak_confidence": "weak errors sit where the weak model is unsure; dropping those cuts noise",
    "filter=agreement": "examples where weak labels and the strong prior agree are more likely correct",
    "filter=none": "filtering may throw away useful examples; training on all of them may be better",
    "reweight=weak_confidence": "down-weighting unsure weak labels keeps their signal but limits their noise",
    "reweight=agreement": "weighting by weak/strong agreement trusts examples both sources support",
    "reweight=none": "uniform weights may be better than a noisy trust score",
    "loss=aux_conf": "an auxiliary confidence loss lets the strong model override weak labels it doubts",
    "loss=bootstrap": "bootstrapping the targets with the model's own predictions resists label noise",
    "loss=gce": "generalised cross-entropy bounds the gradient of mislabeled examples",
    "loss=ce": "plain cross-entropy may fit better when the labels are mostly right",
    "mode=finetune": "fine-tuning the whole strong model can generalise beyond the weak labels",
    "mode=probe": "a probe on frozen features imitates the weak labels less",
    "rounds=2": "a second self-training round can correct weak errors with the strong model's predictions",
    "rounds=3": "more self-training rounds may correct more weak errors (or reinforce them)",
    "rounds=1": "self-training may reinforce errors; one round may be enough",
    "label_source=direction": "an unsupervised truth direction in the strong features, only oriented by the "
    "weak labels, cannot copy their item-level errors",
    "label_source=icm": "labels that the strong features predict from each other (mutual predictability) "
    "keep the weak labels' signal and drop their unpredictable errors",
    "label_source=knn": "a weak error rarely survives among strong-feature neighbours that carry the "
    "right label",
    "label_source=channel": "a posterior that treats weak labels as noisy evidence about the truth, with the "
    "strong model as the prior, trusts each weak label as much as it deserves",
    "direction_method=ccs": "a statement and its negation must get opposite answers: contrast consistency "
    "singles out the model's belief",
    "direction_method=gmm": "true and false items may form two clusters in the strong features",
    "direction_method=cluster_means": "the difference of two cluster centres may be the truth direction",
    "direction_method=pca": "the truth may be one of the strong features' top principal components",
    "filter=knn": "items whose weak label disagrees with their strong-feature neighbours are likely wrong",
    "filter=target_confidence": "keep only the items the label source is sure about",
    "reweight=knn": "weight items by how well their weak label agrees with their neighbours",
    "reweight=target_confidence": "weight items by how sure the label source is",
    "relabel_dropped=True": "the first-stage student can label the items the filter dropped better than the "
    "weak model did",
    "hard_targets=True": "hard targets stop the student from copying the label source's hesitations",
    "early_stop=True": "stopping when the held-out weak-label misfit stops falling stops before the student "
    "memorises weak errors",
    "channel_prior=direction": "an unsupervised direction as the prior of the noisy channel",
    "channel_prior=zero_shot": "the strong model's zero-shot judgement as the prior of the noisy channel",
    "channel_prior=student": "a cross-fitted first-stage student as the prior of the noisy channel",
    "input_labels=direction": "a search or smoothing started from an unsupervised direction's labels starts "
    "nearer the truth than from the weak labels",
    "input_labels=icm": "smoothing or searching again from mutually predictable labels builds on what ICM "
    "found",
    "input_labels=knn": "neighbour-smoothed labels are a less noisy start than the raw weak labels",
    "input_labels=channel": "a noisy-channel posterior is a less noisy start than the raw weak labels",
}


@dataclass
class Trial:
    key: str
    recipe: dict
    # seed | mutate | combine | build | import | tpe | replicate | confirm | ablate | explore | compose
    origin: str
    agent: str
    parent: str | None = None  # key of the parent trial
    changes: dict[str, list] = field(default_factory=dict)  # component -> [parent value, value]
    scores: dict[str, float] = field(default_factory=dict)  # seed -> public PGR ("reported" for imports)
    finding_id: int | None = None
    snapshot_id: str | None = None
    idea: str | None = None
    reason: str = ""
    # per seed: {"pgr", "accuracy", "preds" (packed test predictions, see stats.pack)}; own runs only
    runs: dict[str, dict] = field(default_factory=dict)
    params: dict[str, Any] | None = None  # the TPE parameters of this recipe (tpe policy)

    @property
    def score(self) -> float | None:
        return mean(self.scores.values()) if self.scores else None


@dataclass
class Proposal:
    recipe: dict
    origin: str
    reason: str
    parent: Trial | None = None
    changes: dict[str, list] = field(default_factory=dict)
    hypothesis: str | None = None  # posted before the idea is tried, when it opens a new direction
    seeds: list[int] | None = None  # evaluate on these seeds instead of the agent's (a replication)
    tpe_number: int | None = None  # the TPE trial this proposal answers


@dataclass
class Insight:
    key: str
    title: str
    body: str
    metrics: dict[str, float]


def effect_key(component: str, old: Any, new: Any) -> str:
    if component in space.GRIDS and isinstance(old, int | float) and isinstance(new, int | float):
        return f"{component} {'up' if new > old else 'down'}"
    return f"{component}={new}"
