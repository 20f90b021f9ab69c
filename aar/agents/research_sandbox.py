"""An agent's research sandbox: its task's public data staged into the agent's folder and mounted at the
neutral paths of `aar.sandbox.layout`, the workspace at /workspace, the server socket at /aar/server.sock.
Built by `aar.sandbox.research`, the one builder that the overseer and `aar sandbox check` use too."""

from __future__ import annotations

from aar.sandbox.research import open_agent_sandbox, stage_agent_view

__all__ = ["open_agent_sandbox", "stage_agent_view"]
