"""Silence Hugging Face progress bars and info logs (they would flood agent transcripts)."""

from __future__ import annotations


def quiet_hf() -> None:
    import transformers

    transformers.utils.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
