"""Token and dollar accounting per agent, kept in RUN_DIR/agents/<name>/usage.json."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from aar.agents.llm.config import ModelPrice
from aar.agents.llm.messages import Usage


def cost(usage: Usage, price: ModelPrice | None) -> float:
    """Dollars for one call (prices are per million tokens; cache prices default to the input price)."""
    if price is None:
        return 0.0
    cache_read = price.cache_read if price.cache_read is not None else price.input
    cache_write = price.cache_write if price.cache_write is not None else price.input
    return (
        usage.input_tokens * price.input
        + usage.output_tokens * price.output
        + usage.cache_read_input_tokens * cache_read
        + usage.cache_creation_input_tokens * cache_write
    ) / 1e6


@dataclass
class UsageTotals:
    agent: str
    provider: str
    model: str
    priced: bool
    price: dict[str, float | None] | None
    requests: int = 0
    retries: int = 0
    failed_requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    dollars: float = 0.0
    sessions: int = 0
    tool_calls: int = 0
    tool_errors: int = 0
    updated: float = field(default_factory=time.time)


class UsageTracker:
    """Accumulates usage and rewrites usage.json (atomically) after every change. A restarted agent
    continues from the totals already on disk."""

    def __init__(
        self, path: Path, *, agent: str, provider: str, model: str, price: ModelPrice | None
    ) -> None:
        self.path = path
        self.price = price
        self.totals = UsageTotals(
            agent=agent,
            provider=provider,
            model=model,
            priced=price is not None,
            price=price.model_dump() if price is not None else None,
        )
        if path.exists():
            try:
                old = json.loads(path.read_text())
            except (OSError, json.JSONDecodeError):
                old = {}
            for key in (
                "requests",
                "retries",
                "failed_requests",
                "input_tokens",
                "output_tokens",
                "cache_read_input_tokens",
                "cache_creation_input_tokens",
                "dollars",
                "sessions",
                "tool_calls",
                "tool_errors",
            ):
                if isinstance(old.get(key), int | float):
                    setattr(self.totals, key, type(getattr(self.totals, key))(old[key]))
        self.write()

    def add(self, usage: Usage) -> float:
        t = self.totals
        t.requests += 1
        t.input_tokens += usage.input_tokens
        t.output_tokens += usage.output_tokens
        t.cache_read_input_tokens += usage.cache_read_input_tokens
        t.cache_creation_input_tokens += usage.cache_creation_input_tokens
        dollars = cost(usage, self.price)
        t.dollars += dollars
        self.write()
        return dollars

    def bump(self, key: str, n: int = 1) -> None:
        setattr(self.totals, key, getattr(self.totals, key) + n)
        self.write()

    def write(self) -> None:
        self.totals.updated = time.time()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        data = asdict(self.totals)
        data["dollars"] = round(data["dollars"], 8)
        tmp.write_text(json.dumps(data, indent=2) + "\n")
        os.replace(tmp, self.path)
