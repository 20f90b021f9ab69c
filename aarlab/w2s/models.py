"""Backend lookup used by the W2S library: the zoo backend for zoo dirs, else the `hf` backend."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from aarlab.w2s.backends.base import ModelBackend
from aarlab.w2s.backends.zoo import ZooBackend, is_zoo_model


@lru_cache(maxsize=8)
def get_backend(spec: str) -> ModelBackend:
    """Load (once per process) the backend for a model path or name."""
    if is_zoo_model(spec):
        return ZooBackend(Path(spec))
    from aarlab.w2s.backends import load_backend  # the hf path (owned by the hf backend module)

    return load_backend(spec)
