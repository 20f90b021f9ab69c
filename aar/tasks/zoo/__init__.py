"""The CPU model zoo: small causal transformers the project pretrains itself, in Hugging Face format."""

from __future__ import annotations

from typing import Any

__all__ = ["build_zoo", "model_dir", "zoo_ready"]


def __getattr__(name: str) -> Any:  # loads torch only when the zoo is used
    if name in __all__:
        from aar.tasks.zoo import build

        return getattr(build, name)
    raise AttributeError(name)
