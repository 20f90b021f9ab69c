"""Shared pieces of the task generators: stable seeding and the generator interface."""

from __future__ import annotations

import hashlib
import random
from typing import Protocol

QUESTION = "?"  # every verification text ends with this; the judgement token follows it
YES, NO = "<yes>", "<no>"


def rng_for(*parts: object) -> random.Random:
    """A random.Random seeded from a stable hash of `parts` (independent of PYTHONHASHSEED).

    Public streams only (pretraining corpora, model init): anything private is drawn from
    `aar.tasks.secret.keyed_rng`."""
    key = "/".join(str(p) for p in parts).encode()
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))


class TaskGenerator(Protocol):
    name: str
    description: str

    def item(self, rng: random.Random, label: int) -> str:
        """A verification text (ending in QUESTION) whose true label is `label`."""
        ...

    def corpus_line(self, rng: random.Random) -> str:
        """One pretraining line: the task's knowledge in its pretraining format."""
        ...


def judgement_line(text: str, label: int) -> str:
    return text + (YES if label else NO)
