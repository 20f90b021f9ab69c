"""Configuration of an LLM research agent (`LLMAgentConfig`) and model prices."""

from __future__ import annotations

import json
import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ModelPrice(BaseModel):
    """US dollars per million tokens."""

    model_config = ConfigDict(extra="forbid")

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_read: float | None = Field(default=None, ge=0)
    cache_write: float | None = Field(default=None, ge=0)


def default_prices() -> dict[str, ModelPrice]:
    """List prices shipped in `prices.toml` (public list prices; override them in the config)."""
    text = resources.files("aar.agents.llm").joinpath("prices.toml").read_text()
    return {name: ModelPrice(**p) for name, p in tomllib.loads(text).get("models", {}).items()}


def load_prices(path: Path) -> dict[str, ModelPrice]:
    """Read a prices file: TOML (`[models."name"] input = 3.0 ...`) or JSON (`{"name": {...}}`)."""
    text = path.read_text()
    raw = tomllib.loads(text).get("models", {}) if path.suffix == ".toml" else json.loads(text)
    return {name: ModelPrice(**p) for name, p in raw.items()}


class LLMAgentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a typo (`modle`, `max_dolars`) is an error, not a default

    provider: Literal["anthropic", "openai"] = "anthropic"
    model: str = "claude-sonnet-4-5"
    base_url: str | None = None
    api_key_env: str | None = None  # default: ANTHROPIC_API_KEY / OPENAI_API_KEY
    max_turns: int = Field(default=200, ge=1)  # model calls over all sessions
    max_session_turns: int = Field(default=40, ge=1)  # model calls per session
    max_sessions: int = Field(default=20, ge=1)
    max_tokens: int = Field(default=4096, ge=1)  # output tokens per call
    temperature: float | None = Field(default=None, ge=0)
    max_dollars: float | None = Field(default=None, ge=0)
    prices: dict[str, ModelPrice] = Field(default_factory=dict)  # merged over the shipped defaults
    prices_file: Path | None = None
    # context: characters (~4 per token) of system + messages sent per call
    context_chars: int = Field(default=400_000, ge=2_000)
    keep_recent_turns: int = Field(default=6, ge=1)  # turns whose tool outputs are never collapsed
    collapsed_output_chars: int = Field(default=300, ge=0)
    tool_output_chars: int = Field(default=20_000, ge=200)  # cap of one tool output given to the model
    notebook_chars: int = Field(default=20_000, ge=500)
    # retries (the loop retries itself; the SDK's own retries are off so each one is logged)
    max_retries: int = Field(default=6, ge=0)
    retry_base_delay: float = Field(default=1.0, ge=0)
    retry_max_delay: float = Field(default=60.0, ge=0)
    request_timeout: float = Field(default=600.0, gt=0)
    prompt_cache: bool = True  # Anthropic prompt caching (cache reads are billed at the cache_read price)
    openai_max_tokens_param: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"

    @model_validator(mode="after")
    def _check(self) -> LLMAgentConfig:
        if self.retry_max_delay < self.retry_base_delay:
            raise ValueError("retry_max_delay must be >= retry_base_delay")
        return self

    def key_env(self) -> str:
        if self.api_key_env:
            return self.api_key_env
        return "ANTHROPIC_API_KEY" if self.provider == "anthropic" else "OPENAI_API_KEY"

    def price(self) -> ModelPrice | None:
        table = default_prices()
        if self.prices_file is not None:
            table.update(load_prices(self.prices_file))
        table.update(self.prices)
        return table.get(self.model)

    @classmethod
    def from_file(cls, path: Path) -> LLMAgentConfig:
        text = path.read_text()
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        return cls.model_validate(data)
