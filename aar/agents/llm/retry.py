"""Retries with exponential backoff on rate limits (429), overload and 5xx, and connection errors."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from aar.agents.llm.providers.base import ErrorInfo

T = TypeVar("T")


@dataclass
class RetryPolicy:
    max_retries: int = 6
    base_delay: float = 1.0
    max_delay: float = 60.0

    def delay(self, attempt: int, info: ErrorInfo, rng: random.Random) -> float:
        """Server's retry-after when given (capped), else base * 2^attempt with jitter in [0.5, 1]."""
        if info.retry_after is not None:
            return min(info.retry_after, self.max_delay)
        return min(self.max_delay, self.base_delay * (2**attempt)) * (0.5 + 0.5 * rng.random())


class GiveUp(RuntimeError):
    def __init__(self, info: ErrorInfo, attempts: int) -> None:
        super().__init__(f"model call failed after {attempts} attempt(s): {info.message}")
        self.info = info
        self.attempts = attempts


def call_with_retries(
    fn: Callable[[], T],
    classify: Callable[[BaseException], ErrorInfo | None],
    policy: RetryPolicy,
    on_retry: Callable[[int, ErrorInfo, float], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> T:
    """Call `fn`; on a retryable API error wait and try again, up to `policy.max_retries` times.
    `on_retry(attempt, info, delay)` is called before each wait (attempt counts from 1)."""
    rng = rng or random.Random()
    attempt = 0
    while True:
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - classified below, unknown errors re-raised
            info = classify(exc)
            if info is None:
                raise
            if not info.retryable or attempt >= policy.max_retries:
                raise GiveUp(info, attempt + 1) from exc
            delay = policy.delay(attempt, info, rng)
            attempt += 1
            if on_retry is not None:
                on_retry(attempt, info, delay)
            sleep(delay)
