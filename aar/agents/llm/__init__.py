"""The `llm` research agent: a tool-use loop on the Anthropic Messages API or any OpenAI-compatible
chat endpoint, over the agent ToolSet (`aar.agents.tools`)."""

from aar.agents.llm.config import LLMAgentConfig, ModelPrice
from aar.agents.llm.loop import LLMLoop, LoopResult, run_llm_agent

__all__ = ["LLMAgentConfig", "LLMLoop", "LoopResult", "ModelPrice", "run_llm_agent"]
