"""The command lines the supervisor builds are accepted by the agents' own argument parsers."""

from __future__ import annotations

import json
from pathlib import Path

from aar.agents.llm.__main__ import parse_args as llm_args
from aar.agents.searcher.__main__ import parse_args as searcher_args
from aar.supervisor.agents import agent_command, agent_env
from aar.supervisor.config import RunConfig


def test_commands_parse(tmp_path: Path) -> None:
    cfg = RunConfig.model_validate(
        {
            "run_dir": tmp_path / "run",
            "task": "math",
            "tasks_dir": tmp_path / "tasks",
            "budget_per_agent": 7,
            "sandbox": "none",
            "gpus": ["0", "1"],
            "directions": [{"name": "d1", "text": "first", "seeds": [{}]}],
            "agents": [
                {"count": 1, "searcher": {"seeds": [0, 2], "modes": ["probe"], "max_ideas": 5}},
                {
                    "count": 1,
                    "kind": "llm",
                    "llm": {"provider": "openai", "model": "m", "base_url": "http://x"},
                },
            ],
        }
    )
    (name_s, group_s), (name_l, group_l) = cfg.agent_specs()
    s = agent_command(cfg, name_s, group_s, "d1", server_url=None, uds="/r/server.sock", deadline=None)
    a = searcher_args(s[3:])
    assert (
        a.name,
        a.task,
        a.direction,
        a.uds,
        a.budget,
        a.seeds,
        a.modes,
        a.max_ideas,
        a.devices,
        a.slots,
    ) == ("searcher-1", "math", "d1", "/r/server.sock", 7, "0,2", "probe", 5, "0,1", 2)
    assert a.data_dir == tmp_path / "tasks" / "math" / "main" / "public"
    assert json.loads(a.directions_file.read_text())[0]["name"] == "d1"
    llm = agent_command(cfg, name_l, group_l, "d1", server_url="http://127.0.0.1:9", uds=None, deadline=None)
    b = llm_args(llm[3:])
    assert (b.name, b.server_url, b.sandbox, b.direction) == (
        "llm-1",
        "http://127.0.0.1:9",
        "none",
        "d1: first",
    )
    assert json.loads(b.config.read_text())["model"] == "m"
    env = agent_env(cfg, "tok")
    assert env["AAR_AGENT_TOKEN"] == "tok" and env["AAR_COMPUTE_SLOTS"] == "2"
    assert env["AAR_COMPUTE_DEVICES"] == "0,1" and env["AAR_COMPUTE_ROOT"] == str(cfg.run_dir / "queue")
