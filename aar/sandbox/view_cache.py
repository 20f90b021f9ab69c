"""Fill a research view's read-only feature cache (/aar/cache/features) with trusted code.

Every research sandbox sees the same cache layout: the frozen features and zero-shot outputs of the
view's weak and strong models on the view's three splits. The overseer's re-runs then skip the costliest
step of a probe run, and an agent's runs see the same kind of cache, so its presence tells no run apart.
Entries are computed once per (weights, texts) in the host's cache and copied, under a file lock.
"""

from __future__ import annotations

import fcntl
import shutil
from pathlib import Path

from aar.sandbox.layout import TaskView

SPLITS = ("train_label", "train_unlabel", "test")
KINDS = ("features", "zero_shot")


def fill_view_cache(view: TaskView, roles: tuple[str, ...] = ("weak", "strong")) -> list[Path]:
    """Compute (or take from the host cache) and copy the view's cache entries; returns the files.
    Only zoo models are cached (an HF model's features are computed inside the sandbox)."""
    from aarlab.paths import cache_dir
    from aarlab.w2s.backends.zoo import ZooBackend, is_zoo_model
    from aarlab.w2s.data import DataDir

    data = DataDir(view.data)
    texts = {split: data.texts(split) for split in SPLITS}
    dest = view.cache / "features"
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for role in roles:
        model = view.models.get(role)
        if model is None or not is_zoo_model(model):
            continue
        backend = ZooBackend(Path(model))
        for kind in KINDS:
            compute = backend.features if kind == "features" else backend.zero_shot
            for split in SPLITS:
                name = backend.cache_name(texts[split], kind)
                host = cache_dir() / "features" / name
                host.parent.mkdir(parents=True, exist_ok=True)
                with open(host.with_suffix(".lock"), "w") as lock:
                    fcntl.flock(lock, fcntl.LOCK_EX)  # one process computes, the others wait and copy
                    if not host.exists():
                        compute(texts[split])  # writes `host` through the backend's own cache
                shutil.copyfile(host, dest / name)
                out.append(dest / name)
    return out
