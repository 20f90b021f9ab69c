"""The agent tool set (`ToolSet`), its specs and results."""

from aar.agents.tools.toolset import ToolSet
from aar.agents.tools.types import ToolError, ToolResult, ToolSpec

__all__ = ["ToolError", "ToolResult", "ToolSet", "ToolSpec"]
