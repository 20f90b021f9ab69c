"""Provider-neutral conversation types the loop keeps; each provider converts them to its API format."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass
class ToolCall:
    id: str
    name: str
    args: dict[str, Any]
    parse_error: str | None = None  # arguments the model sent were not a JSON object


@dataclass
class ToolOutput:
    call_id: str
    name: str
    output: str
    ok: bool


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0


@dataclass
class ModelTurn:
    """One answer of the model."""

    text: str
    tool_calls: list[ToolCall]
    stop_reason: str
    usage: Usage
    model: str = ""


@dataclass
class Msg:
    """`user`: text. `assistant`: text + tool calls. `tool`: the results of the previous assistant's
    tool calls, plus an optional `text` note from the loop sent along with them."""

    role: Literal["user", "assistant", "tool"]
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    results: list[ToolOutput] = field(default_factory=list)

    def chars(self) -> int:
        n = len(self.text)
        n += sum(len(c.name) + len(str(c.args)) for c in self.tool_calls)
        n += sum(len(r.output) + 40 for r in self.results)
        return n


@dataclass
class ToolSpecView:
    name: str
    description: str
    input_schema: dict[str, Any]


def spec_view(spec: Any) -> ToolSpecView:
    """Read a ToolSpec given as an object with attributes or as a dict."""
    if isinstance(spec, dict):
        return ToolSpecView(spec["name"], spec.get("description", ""), spec.get("input_schema") or {})
    return ToolSpecView(spec.name, getattr(spec, "description", ""), getattr(spec, "input_schema", {}) or {})
