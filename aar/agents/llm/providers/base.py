"""The provider interface: one implementation per SDK."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from aar.agents.llm.messages import ModelTurn, Msg, ToolSpecView

RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


@dataclass
class ErrorInfo:
    retryable: bool
    status: int | None  # HTTP status, None for connection errors / timeouts
    retry_after: float | None  # seconds, from the response headers
    message: str


def retry_after_seconds(headers: object) -> float | None:
    """Seconds from `retry-after-ms` / `retry-after` (numbers only) response headers."""
    get = getattr(headers, "get", None)
    if get is None:
        return None
    for key, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        value = get(key)
        if value is None:
            continue
        try:
            return max(0.0, float(value) * scale)
        except ValueError:
            continue
    return None


class Provider(ABC):
    name: str

    @abstractmethod
    def complete(self, system: str, messages: Sequence[Msg], tools: Sequence[ToolSpecView]) -> ModelTurn:
        """One model call (no retries: the loop retries using `classify`)."""

    @abstractmethod
    def classify(self, exc: BaseException) -> ErrorInfo | None:
        """Describe an SDK error; None if `exc` is not an API error at all (a bug: re-raise)."""
