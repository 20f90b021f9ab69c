"""The run supervisor: `aar run` (server, agents, extra workers, limits, live table) and its config.

The names below load on first use, so `aar.supervisor.cli` (registered in `aar.cli`) stays light.
"""

from __future__ import annotations

from typing import Any

__all__ = ["AgentGroup", "ExtraProcess", "RunConfig", "load_config"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from aar.supervisor import config

        return getattr(config, name)
    raise AttributeError(name)
