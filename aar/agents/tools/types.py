"""The tool set's value types."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    input_schema: dict[str, Any] = field(default_factory=dict)


@dataclass
class ToolResult:
    ok: bool
    output: str
    data: dict | None = None


class ToolError(Exception):
    """A tool refused or failed; its message goes back to the agent as the output of a failed call."""
