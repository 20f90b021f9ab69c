"""Anthropic Messages API through the `anthropic` SDK (tool use)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anthropic

from aar.agents.llm.messages import ModelTurn, Msg, ToolCall, ToolSpecView, Usage
from aar.agents.llm.providers.base import RETRYABLE_STATUS, ErrorInfo, Provider, retry_after_seconds


def to_anthropic_tools(tools: Sequence[ToolSpecView]) -> list[dict[str, Any]]:
    return [{"name": t.name, "description": t.description, "input_schema": t.input_schema} for t in tools]


def to_anthropic_messages(messages: Sequence[Msg]) -> list[dict[str, Any]]:
    """Neutral messages -> Anthropic turns; tool results (and any loop note) go in a user turn, and
    consecutive user-side messages are merged so roles alternate."""
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "assistant":
            blocks: list[dict[str, Any]] = []
            if m.text:
                blocks.append({"type": "text", "text": m.text})
            for c in m.tool_calls:
                blocks.append({"type": "tool_use", "id": c.id, "name": c.name, "input": c.args})
            if not blocks:
                blocks.append({"type": "text", "text": "(no output)"})
            out.append({"role": "assistant", "content": blocks})
            continue
        blocks = [
            {
                "type": "tool_result",
                "tool_use_id": r.call_id,
                "content": r.output or "(empty)",
                "is_error": not r.ok,
            }
            for r in m.results
        ]
        if m.text:
            blocks.append({"type": "text", "text": m.text})
        if out and out[-1]["role"] == "user":
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": "user", "content": blocks})
    return out


def with_cache_breakpoints(
    system: str, turns: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Prompt caching: one breakpoint after the system prompt (caches tools + system) and one on the last
    block of the conversation, so each call re-reads the previous prefix from the cache."""
    ephemeral = {"type": "ephemeral"}
    system_blocks = [{"type": "text", "text": system, "cache_control": ephemeral}]
    if turns:
        last = turns[-1]
        content = last["content"]
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        else:
            content = [dict(b) for b in content]
        content[-1]["cache_control"] = ephemeral
        turns = [*turns[:-1], {**last, "content": content}]
    return system_blocks, turns


def from_anthropic_message(msg: Any) -> ModelTurn:
    texts: list[str] = []
    calls: list[ToolCall] = []
    for block in msg.content:
        if block.type == "text":
            texts.append(block.text)
        elif block.type == "tool_use":
            args = block.input if isinstance(block.input, dict) else {}
            err = None if isinstance(block.input, dict) else f"tool input is not an object: {block.input!r}"
            calls.append(ToolCall(id=block.id, name=block.name, args=args, parse_error=err))
    u = msg.usage
    usage = Usage(
        input_tokens=u.input_tokens or 0,
        output_tokens=u.output_tokens or 0,
        cache_read_input_tokens=getattr(u, "cache_read_input_tokens", None) or 0,
        cache_creation_input_tokens=getattr(u, "cache_creation_input_tokens", None) or 0,
    )
    return ModelTurn("\n".join(texts), calls, msg.stop_reason or "", usage, model=msg.model or "")


class AnthropicProvider(Provider):
    name = "anthropic"

    def __init__(
        self,
        *,
        model: str,
        api_key: str,
        base_url: str | None,
        max_tokens: int,
        temperature: float | None,
        timeout: float,
        prompt_cache: bool = True,
    ) -> None:
        self.model = model
        self.prompt_cache = prompt_cache
        self.max_tokens = max_tokens
        self.temperature = temperature
        # max_retries=0: the loop does the retrying so that every retry is logged and configurable
        self.client = anthropic.Anthropic(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)

    def complete(self, system: str, messages: Sequence[Msg], tools: Sequence[ToolSpecView]) -> ModelTurn:
        kwargs: dict[str, Any] = {}
        if self.temperature is not None:
            kwargs["temperature"] = self.temperature
        turns = to_anthropic_messages(messages)
        system_param: Any = system
        if self.prompt_cache:
            system_param, turns = with_cache_breakpoints(system, turns)
        msg = self.client.messages.create(
            model=self.model,
            max_tokens=self.max_tokens,
            system=system_param,
            messages=turns,  # type: ignore[arg-type]
            tools=to_anthropic_tools(tools),  # type: ignore[arg-type]
            **kwargs,
        )
        return from_anthropic_message(msg)

    def classify(self, exc: BaseException) -> ErrorInfo | None:
        if isinstance(exc, anthropic.APIStatusError):
            status = exc.status_code
            return ErrorInfo(
                status in RETRYABLE_STATUS or status >= 500,
                status,
                retry_after_seconds(exc.response.headers),
                str(exc)[:500],
            )
        if isinstance(exc, anthropic.APIConnectionError):  # includes APITimeoutError
            return ErrorInfo(True, None, None, f"{type(exc).__name__}: {exc}"[:500])
        if isinstance(exc, anthropic.APIError):
            return ErrorInfo(False, None, None, f"{type(exc).__name__}: {exc}"[:500])
        return None
