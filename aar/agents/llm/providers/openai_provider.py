"""Any OpenAI-compatible Chat Completions endpoint through the `openai` SDK (function calling):
OpenAI itself, vLLM, Ollama, llama.cpp server, hosted gateways."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import openai

from aar.agents.llm.messages import ModelTurn, Msg, ToolCall, ToolSpecView, Usage
from aar.agents.llm.providers.base import RETRYABLE_STATUS, ErrorInfo, Provider, retry_after_seconds


def to_openai_tools(tools: Sequence[ToolSpecView]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {"name": t.name, "description": t.description, "parameters": t.input_schema},
        }
        for t in tools
    ]


def to_openai_messages(system: str, messages: Sequence[Msg]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for m in messages:
        if m.role == "user":
            out.append({"role": "user", "content": m.text})
        elif m.role == "assistant":
            msg: dict[str, Any] = {"role": "assistant", "content": m.text or None}
            if m.tool_calls:
                msg["tool_calls"] = [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.name, "arguments": json.dumps(c.args)},
                    }
                    for c in m.tool_calls
                ]
            elif not m.text:
                msg["content"] = "(no output)"
            out.append(msg)
        else:
            for r in m.results:
                content = r.output or "(empty)"
                out.append(
                    {
                        "role": "tool",
                        "tool_call_id": r.call_id,
                        "content": content if r.ok else f"ERROR: {content}",
                    }
                )
            if m.text:
                out.append({"role": "user", "content": m.text})
    return out


def parse_arguments(raw: str | None) -> tuple[dict[str, Any], str | None]:
    if not raw:
        return {}, None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as e:
        return {}, f"tool arguments are not valid JSON ({e}): {raw[:200]}"
    if not isinstance(value, dict):
        return {}, f"tool arguments are not a JSON object: {raw[:200]}"
    return value, None


def from_openai_completion(completion: Any, turn_index: int) -> ModelTurn:
    choice = completion.choices[0]
    message = choice.message
    calls: list[ToolCall] = []
    for i, tc in enumerate(message.tool_calls or []):
        fn = getattr(tc, "function", None)
        if fn is None:
            continue
        args, err = parse_arguments(fn.arguments)
        calls.append(ToolCall(id=tc.id or f"call_{turn_index}_{i}", name=fn.name, args=args, parse_error=err))
    u = completion.usage
    usage = Usage()
    if u is not None:
        details = getattr(u, "prompt_tokens_details", None)
        cached = (getattr(details, "cached_tokens", None) or 0) if details is not None else 0
        usage = Usage(
            input_tokens=(u.prompt_tokens or 0) - cached,
            output_tokens=u.completion_tokens or 0,
            cache_read_input_tokens=cached,
        )
    return ModelTurn(
        message.content or "", calls, choice.finish_reason or "", usage, model=completion.model or ""
    )


class OpenAIProvider(Provider):
    name = "openai"

    def __init__(
        self,
        *,
        model: str,
        api_key: str,
        base_url: str | None,
        max_tokens: int,
        temperature: float | None,
        timeout: float,
        max_tokens_param: str = "max_tokens",
    ) -> None:
        self.model = model
        self.max_tokens = max_tokens
        self.max_tokens_param = max_tokens_param
        self.temperature = temperature
        self.calls = 0
        self.client = openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=0, timeout=timeout)

    def complete(self, system: str, messages: Sequence[Msg], tools: Sequence[ToolSpecView]) -> ModelTurn:
        kwargs: dict[str, Any] = {self.max_tokens_param: self.max_tokens}
        if self.temperature is not None:
            kwargs["temperature"] = self.temperature
        if tools:
            kwargs["tools"] = to_openai_tools(tools)
        completion = self.client.chat.completions.create(
            model=self.model,
            messages=to_openai_messages(system, messages),  # type: ignore[arg-type]
            **kwargs,
        )
        self.calls += 1
        return from_openai_completion(completion, self.calls)

    def classify(self, exc: BaseException) -> ErrorInfo | None:
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            return ErrorInfo(
                status in RETRYABLE_STATUS or status >= 500,
                status,
                retry_after_seconds(exc.response.headers),
                str(exc)[:500],
            )
        if isinstance(exc, openai.APIConnectionError):
            return ErrorInfo(True, None, None, f"{type(exc).__name__}: {exc}"[:500])
        if isinstance(exc, openai.APIError):
            return ErrorInfo(False, None, None, f"{type(exc).__name__}: {exc}"[:500])
        return None
