"""The one interface every model backend (CPU zoo, Hugging Face) implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

# (logits of shape (n, 2), soft targets p(label=1) of shape (n,), training progress in [0, 1]) -> loss
LossFn = Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]


@dataclass
class FinetuneConfig:
    epochs: int = 2
    lr: float = 1e-4
    batch_size: int = 32
    seed: int = 0
    lora_rank: int | None = None
    weight_decay: float = 0.0
    max_seconds: float | None = None
    holdout: float = 0.0  # early stopping on this held-out fraction's misfit (0: off)
    evals_per_epoch: int = 4
    patience: int = 3


class Predictor(Protocol):
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """p(label=1) for each text."""
        ...


class ModelBackend(ABC):
    name: str

    @abstractmethod
    def features(self, texts: Sequence[str]) -> np.ndarray:
        """Frozen features of shape (n, d), the input of probe mode."""

    @abstractmethod
    def zero_shot(self, texts: Sequence[str]) -> np.ndarray:
        """p(label=1) from the model's prior alone, no training."""

    def feature_groups(self) -> dict[str, slice]:
        """Named blocks of the feature vector (columns), e.g. hidden states vs token statistics; a
        method can work in one block (a "view"). The whole vector is the view "all"."""
        return {}

    def contrast_features(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Frozen features of each text answered yes and answered no (the contrast pairs of CCS,
        Burns et al. 2022): two arrays of shape (n, d)."""
        raise NotImplementedError(f"the {self.name} backend has no contrast-pair features")

    @abstractmethod
    def finetune(
        self,
        texts: Sequence[str],
        targets: np.ndarray,
        cfg: FinetuneConfig,
        loss: LossFn | None = None,
        weights: np.ndarray | None = None,
    ) -> Predictor:
        """Train (the whole model or LoRA adapters) on soft targets; return a predictor."""
