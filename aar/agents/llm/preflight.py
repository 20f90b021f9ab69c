"""Before a run starts its LLM agents: is the provider's key there, does the endpoint answer, does it
know the model? One cheap call per endpoint, through the same SDKs the agents use, no retries:
Anthropic `GET /v1/models/{model}` (resolves aliases; no tokens spent), OpenAI-compatible `GET /models`
(the model must be listed). Each problem is one line."""

from __future__ import annotations

import os

from aar.agents.llm.config import LLMAgentConfig

DEFAULT_HOSTS = {"anthropic": "api.anthropic.com", "openai": "api.openai.com"}


def endpoint(cfg: LLMAgentConfig) -> str:
    return cfg.base_url or DEFAULT_HOSTS[cfg.provider]


def check_provider(cfg: LLMAgentConfig, timeout: float = 15.0) -> str | None:
    """None if the endpoint answers for this key and model; else what is wrong, in one line."""
    key = os.environ.get(cfg.key_env(), "").strip()
    if not key and not cfg.base_url:
        return f"no API key: set {cfg.key_env()} (the agents read the key from it)"
    where = endpoint(cfg)
    if cfg.provider == "anthropic":
        return _anthropic(cfg, key or "no-key", where, timeout)
    return _openai(cfg, key or "no-key", where, timeout)


def _status_line(cfg: LLMAgentConfig, where: str, status: int, message: str) -> str:
    if status in (401, 403):
        return f"{where} refused the key in {cfg.key_env()} ({status})"
    return f"{where} answered {status}: {message[:200]}"


def _anthropic(cfg: LLMAgentConfig, key: str, where: str, timeout: float) -> str | None:
    import anthropic

    client = anthropic.Anthropic(api_key=key, base_url=cfg.base_url, max_retries=0, timeout=timeout)
    try:
        info = client.models.retrieve(cfg.model)
    except anthropic.NotFoundError:
        return f"{where} does not know the model {cfg.model!r}"
    except anthropic.APIStatusError as e:
        return _status_line(cfg, where, e.status_code, str(e))
    except anthropic.APIConnectionError as e:
        return f"cannot reach {where}: {type(e).__name__}: {e}"
    finally:
        client.close()
    if getattr(info, "lifecycle", None) == "retired":
        return f"the model {cfg.model!r} is retired at {where}"
    return None


def _openai(cfg: LLMAgentConfig, key: str, where: str, timeout: float) -> str | None:
    import openai

    client = openai.OpenAI(api_key=key, base_url=cfg.base_url, max_retries=0, timeout=timeout)
    try:
        served = [m.id for m in client.models.list()]
    except openai.NotFoundError:
        return f"{where} has no models route (GET /models answered 404): is base_url the /v1 root?"
    except openai.APIStatusError as e:
        return _status_line(cfg, where, e.status_code, str(e))
    except openai.APIConnectionError as e:
        return f"cannot reach {where}: {type(e).__name__}: {e}"
    finally:
        client.close()
    if cfg.model not in served:
        shown = ", ".join(served[:8]) + (" ..." if len(served) > 8 else "")
        return f"{where} does not serve the model {cfg.model!r} (it serves: {shown or 'nothing'})"
    return None
