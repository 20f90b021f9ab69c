"""The CPU model zoo: small causal transformers the project pretrains itself, in Hugging Face format."""

from aar.tasks.zoo.build import build_zoo, model_dir, zoo_ready

__all__ = ["build_zoo", "model_dir", "zoo_ready"]
