"""`python -m aar.agents.llm --run-dir RUN_DIR --name NAME --config CONFIG` (used by the supervisor).

The agent token comes from $AAR_AGENT_TOKEN (or --token-env), the model API key from the env var named
by the config (`api_key_env`). With $AAR_COMPUTE_ROOT / $AAR_COMPUTE_SLOTS set (the supervisor sets
them), experiment commands (idea runs) wait for a compute-queue slot; under the Ray executor
($AAR_EXECUTOR=ray) they hold CPUs (and GPUs) of the agent's node from Ray. The server is reached at
--server-url / $AAR_SERVER_URL, else through RUN_DIR/server.sock.
Exit status: 0 finished (turn / session / dollar limits, or stopped), 2 the model API failed.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from aar.agents.llm.config import LLMAgentConfig


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m aar.agents.llm", description=__doc__.split("\n\n")[0])
    p.add_argument("--run-dir", type=Path, required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--config", type=Path, required=True, help="LLMAgentConfig as JSON or TOML")
    p.add_argument("--task", default=None, help="task name (default: the first task the server lists)")
    p.add_argument("--direction", default=None)
    p.add_argument("--direction-file", type=Path, default=None)
    p.add_argument("--server-url", default=None)
    p.add_argument("--uds", default=None, help="server Unix socket (default RUN_DIR/server.sock)")
    p.add_argument("--token-env", default="AAR_AGENT_TOKEN")
    p.add_argument("--sandbox", default="bwrap", choices=["bwrap", "docker", "none"])
    p.add_argument("--data-dir", type=Path, default=None, help="public data dir (default from the task meta)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from aar.agents.llm.launch import build_agent
    from aar.agents.llm.loop import run_llm_agent

    args = parse_args(argv)
    cfg = LLMAgentConfig.from_file(args.config)
    agent = build_agent(args)
    stop = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    result = run_llm_agent(
        cfg,
        agent.toolset,
        agent_dir=agent.agent_dir,
        name=args.name,
        meta=agent.meta,
        direction=agent.direction,
        data_dir=str(agent.data_dir),
        stop=stop,
    )
    print(
        f"llm agent {args.name}: {result.end_reason} after {result.sessions} session(s), "
        f"{result.turns} turn(s), "
        f"${result.usage['dollars']:.4f}",
        file=sys.stderr,
    )
    return 2 if result.end_reason == "model_error" else 0


if __name__ == "__main__":
    sys.exit(main())
