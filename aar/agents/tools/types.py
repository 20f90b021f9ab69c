"""The tool set's value types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ToolSpec:
    """`input_schema`: JSON schema of the arguments; `output_schema`: of a successful result's `data`;
    `annotations`: MCP tool hints (`readOnlyHint`, `destructiveHint`, `idempotentHint`, `openWorldHint`)."""

    name: str
    description: str
    input_schema: dict[str, Any] = field(default_factory=dict)
    title: str | None = None
    annotations: dict[str, bool] = field(default_factory=dict)
    output_schema: dict[str, Any] | None = None


@dataclass
class ToolResult:
    ok: bool
    output: str
    data: dict | None = None


class ToolError(Exception):
    """A tool refused or failed; its message goes back to the agent as the output of a failed call."""
