"""Model backends behind one interface (`base.ModelBackend`): the CPU `zoo` and any HF causal LM (`hf`)."""

from __future__ import annotations

from pathlib import Path

from aarlab.w2s.backends.base import FinetuneConfig, LossFn, ModelBackend, Predictor

__all__ = ["FinetuneConfig", "LossFn", "ModelBackend", "Predictor", "load_backend"]


def load_backend(spec: str | Path) -> ModelBackend:
    """A directory holding `aar_zoo.json` -> the zoo backend; anything else (hub name or path) -> `hf`."""
    if (Path(spec) / "aar_zoo.json").is_file():
        from aarlab.w2s.backends.zoo import ZooBackend

        return ZooBackend(Path(spec))
    from aarlab.w2s.backends.hf import HFBackend

    return HFBackend(str(spec))
