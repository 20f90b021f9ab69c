"""Agents: the tool set and audit log, the searcher, the LLM loop and the MCP server."""
