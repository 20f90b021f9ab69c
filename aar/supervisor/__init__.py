"""The run supervisor: `aar run` (server, agents, extra workers, limits, live table) and its config."""

from aar.supervisor.config import AgentGroup, ExtraProcess, RunConfig, load_config

__all__ = ["AgentGroup", "ExtraProcess", "RunConfig", "load_config"]
