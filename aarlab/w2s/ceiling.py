"""The strong ceiling: the strong model trained on the *true* labels of `train_unlabel`.

Those labels are private, so the ceiling is never an agent's idea: trusted code (`aar w2s prepare`,
`aar w2s baselines`) reads them through `aar.tasks.private.ceiling_config` and hands them to the
`strong_ceiling` baseline in its context config under TRUSTED_LABELS_KEY. Run through the public
runner (no such key), that baseline refuses with a clear error.
"""

from __future__ import annotations

import numpy as np

from aarlab.w2s.idea import IdeaContext, IdeaError
from aarlab.w2s.training import TrainSpec, train_and_predict

TRUSTED_LABELS_KEY = "trusted_train_unlabel_labels"


def run_ceiling(ctx: IdeaContext) -> None:
    labels = ctx.config.get(TRUSTED_LABELS_KEY)
    if labels is None:
        raise IdeaError("strong_ceiling needs the true train_unlabel labels, which only trusted code "
                        "(`aar w2s prepare` / `aar w2s baselines`) supplies; it cannot run as an agent idea")
    texts_u, texts_t = ctx.data.texts("train_unlabel"), ctx.data.texts("test")
    y = np.asarray(labels, dtype=np.float64)
    if len(y) != len(texts_u):
        raise IdeaError(f"got {len(y)} trusted labels for {len(texts_u)} train_unlabel items")
    p_u, p_t = train_and_predict(ctx, texts_u, y, TrainSpec(mode=ctx.mode, seed=ctx.seed,
                                                            max_seconds=ctx.max_seconds),
                                 predict=[texts_u, texts_t])
    ctx.write_predictions((p_t > 0.5).astype(int).tolist(), (p_u > 0.5).astype(int).tolist())
