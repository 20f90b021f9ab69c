"""Strong-structure W2S methods: take the label from structure inside the strong model, use the weak
labels to point the way. One module per family, each plain numpy in, numpy out (so an idea can call
them directly), and each reachable from a recipe (`aarlab.w2s.recipe.Recipe`):

- `direction`: unsupervised truth direction (top PCs, cluster means, a 2-cluster mixture, CCS), the
  weak labels only orient it: `label_source="direction"`, `direction_method`, `direction_candidates`
- `icm`: label search by mutual predictability (ICM, probe form) with a consistency term:
  `label_source="icm"`, `icm_*`
- `neighbours`: relabel / filter by the k nearest neighbours' weak labels: `label_source="knn"`,
  `filter="knn"`, `knn_k`
- `channel`: noisy-channel posterior (product of experts, EM over a weak-label confusion model):
  `label_source="channel"`, `channel_*`
- `capacity`: probe on the top-k principal components or one feature view; early stopping on
  held-out weak misfit: `pca_dim`, `student_view`, `early_stop`
- `relabel`: filter, then relabel what was dropped with the first-stage student, retrain:
  `relabel_dropped`

`features` builds the shared frozen-feature space (standardized, optional top-k PCs; contrast pairs
for CCS); `targets` is the recipe engine's glue.
"""

from aarlab.w2s.methods.capacity import holdout_mask, top_components
from aarlab.w2s.methods.channel import channel_em, crossfit_proba, product_of_experts
from aarlab.w2s.methods.direction import (
    DIRECTION_METHODS,
    ccs_direction,
    cluster_means_direction,
    gmm_direction,
    pca_direction,
    scores_to_soft,
)
from aarlab.w2s.methods.features import FeatureSpace, make_space, strong_contrast_space, strong_space
from aarlab.w2s.methods.icm import icm_search, question_groups
from aarlab.w2s.methods.neighbours import knn_agreement, knn_smooth
from aarlab.w2s.methods.relabel import relabel_dropped

__all__ = [
    "DIRECTION_METHODS",
    "FeatureSpace",
    "ccs_direction",
    "channel_em",
    "cluster_means_direction",
    "crossfit_proba",
    "gmm_direction",
    "holdout_mask",
    "icm_search",
    "knn_agreement",
    "knn_smooth",
    "make_space",
    "pca_direction",
    "product_of_experts",
    "question_groups",
    "relabel_dropped",
    "scores_to_soft",
    "strong_contrast_space",
    "strong_space",
    "top_components",
]
