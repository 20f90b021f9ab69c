"""Model providers: one per SDK, chosen by `LLMAgentConfig.provider`."""

from __future__ import annotations

import os

from aar.agents.llm.config import LLMAgentConfig
from aar.agents.llm.providers.base import ErrorInfo, Provider


def resolve_api_key(cfg: LLMAgentConfig, api_key: str | None = None) -> str:
    """The key from `api_key`, else the env var `cfg.key_env()`. Local endpoints (a `base_url`) may run
    without one; the SDKs still want a non-empty string."""
    key = api_key or os.environ.get(cfg.key_env())
    if key:
        return key
    if cfg.base_url:
        return "no-key"
    raise RuntimeError(f"no API key: set {cfg.key_env()} (or give base_url for a local endpoint)")


def make_provider(cfg: LLMAgentConfig, api_key: str | None = None) -> Provider:
    key = resolve_api_key(cfg, api_key)
    if cfg.provider == "anthropic":
        from aar.agents.llm.providers.anthropic_provider import AnthropicProvider

        return AnthropicProvider(
            model=cfg.model,
            api_key=key,
            base_url=cfg.base_url,
            max_tokens=cfg.max_tokens,
            temperature=cfg.temperature,
            timeout=cfg.request_timeout,
            prompt_cache=cfg.prompt_cache,
        )
    from aar.agents.llm.providers.openai_provider import OpenAIProvider

    return OpenAIProvider(
        model=cfg.model,
        api_key=key,
        base_url=cfg.base_url,
        max_tokens=cfg.max_tokens,
        temperature=cfg.temperature,
        timeout=cfg.request_timeout,
        max_tokens_param=cfg.openai_max_tokens_param,
    )


__all__ = ["ErrorInfo", "Provider", "make_provider", "resolve_api_key"]
