"""The loop's limits and failure paths through the real SDKs: session/turn caps with the last-turn note,
dollar budget, model failures, malformed tool arguments, context trimming, stop requests."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from scripted_llm_server import Fail, Reply, ScriptedLLMServer
from test_llm_loop import LABELS, META, FileToolSet

from aar.agents.llm import LLMAgentConfig, LoopResult, run_llm_agent
from aar.agents.llm.prompt import CUT_NOTE, LAST_TURN_NOTE
from aar.agents.llm.transcript import read_transcript


def _run(
    tmp_path: Path,
    provider: str,
    script: list[Reply | Fail],
    stop: threading.Event | None = None,
    **overrides: object,
) -> tuple[LoopResult, ScriptedLLMServer, Path, FileToolSet]:
    agent_dir = tmp_path / "agents" / "bob"
    workspace = agent_dir / "workspace"
    workspace.mkdir(parents=True, exist_ok=True)
    toolset = FileToolSet(workspace, agent_dir / "audit.jsonl", "bob", LABELS)
    with ScriptedLLMServer(script) as server:
        fields: dict[str, object] = dict(
            provider=provider,
            model="scripted",
            base_url=server.url + ("/v1" if provider == "openai" else ""),
            retry_base_delay=0.01,
            retry_max_delay=0.02,
            max_retries=2,
            max_sessions=5,
            prices={"scripted": {"input": 10.0, "output": 30.0}},
        )
        fields.update(overrides)
        cfg = LLMAgentConfig.model_validate(fields)
        res = run_llm_agent(
            cfg, toolset, agent_dir=agent_dir, name="bob", meta=META, direction="d", stop=stop
        )
    return res, server, agent_dir, toolset


def _ls(n: int) -> list[Reply | Fail]:
    return [Reply(f"step {i}", [("list_files", {"path": "."})]) for i in range(n)]


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_session_caps_last_turn_note_and_max_turns(provider: str, tmp_path: Path) -> None:
    res, server, agent_dir, _ = _run(tmp_path, provider, _ls(5), max_session_turns=2, max_turns=5)
    assert res.end_reason == "max_turns" and res.turns == 5 and res.sessions == 3
    bodies = [json.dumps(r.body) for r in server.requests]
    assert [LAST_TURN_NOTE in b for b in bodies] == [False, True, False, True, False]
    assert sum("begins." in b for b in bodies) == 5  # every request of a session carries its opening
    assert [
        "Session 1 begins",
        "Session 1 begins",
        "Session 2 begins",
        "Session 2 begins",
        "Session 3 begins",
    ] == [
        next(s for s in ("Session 1 begins", "Session 2 begins", "Session 3 begins") if s in b)
        for b in bodies
    ]
    ends = [
        e["reason"] for e in read_transcript(agent_dir / "transcript.jsonl") if e["event"] == "session_end"
    ]
    assert ends == ["session_turns", "session_turns", "max_turns"]


def test_dollar_budget_stops_the_loop(tmp_path: Path) -> None:
    # each call: 100 in * $10/M + 20 out * $30/M = $0.0016; the budget is spent after two calls
    res, server, agent_dir, _ = _run(tmp_path, "anthropic", _ls(5), max_dollars=0.003)
    assert res.end_reason == "budget" and res.turns == 2 and server.remaining == 3
    usage = json.loads((agent_dir / "usage.json").read_text())
    assert usage["dollars"] == pytest.approx(2 * (100 * 10 + 20 * 30) / 1e6)


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_retries_exhausted_and_client_errors_end_with_model_error(provider: str, tmp_path: Path) -> None:
    res, server, agent_dir, _ = _run(tmp_path, provider, [Fail(429), Fail(529), Fail(500)], max_retries=2)
    assert res.end_reason == "model_error" and res.turns == 0 and server.remaining == 0
    usage = json.loads((agent_dir / "usage.json").read_text())
    assert usage["retries"] == 2 and usage["failed_requests"] == 1 and usage["requests"] == 0
    res2, server2, _, _ = _run(tmp_path / "b", provider, [Fail(400), *_ls(1)])
    assert res2.end_reason == "model_error" and [r.answered for r in server2.requests] == [400]


def test_malformed_openai_arguments_become_a_tool_error(tmp_path: Path) -> None:
    script: list[Reply | Fail] = [
        Reply("", [("write_file", {})], raw_arguments='{"path": "a.txt", "content": '),
        Reply("retry properly", [("write_file", {"path": "a.txt", "content": "hi"})]),
        Reply("done", []),
    ]
    res, server, agent_dir, _ = _run(tmp_path, "openai", script, max_sessions=1)
    assert res.end_reason == "max_sessions"
    tool_msgs = [m for m in server.requests[1].body["messages"] if m["role"] == "tool"]
    assert tool_msgs[0]["content"].startswith("ERROR: tool arguments are not valid JSON")
    # the malformed call never reached the tool set; the corrected one did
    audit = [json.loads(x) for x in (agent_dir / "audit.jsonl").read_text().splitlines()]
    assert [a["args"] for a in audit] == [{"path": "a.txt", "content": "hi"}]
    assert (agent_dir / "workspace" / "a.txt").read_text() == "hi"


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_context_is_trimmed_to_budget(provider: str, tmp_path: Path) -> None:
    big = "y" * 6000
    command = "head -c 6000 /dev/zero | tr '\\0' y"
    script: list[Reply | Fail] = [Reply("", [("bash", {"command": command})]) for _ in range(8)]
    script.append(Reply("done", []))
    budget = 30_000
    res, server, agent_dir, _ = _run(
        tmp_path, provider, script, context_chars=budget, keep_recent_turns=2, max_sessions=1
    )
    assert res.turns == 9
    sizes = [
        sum(len(json.dumps(m)) for m in r.body["messages"]) + len(json.dumps(r.body.get("system", "")))
        for r in server.requests
    ]
    assert max(sizes) < budget + 5000  # system + messages near the budget (JSON adds some overhead)
    last = json.dumps(server.requests[-1].body)
    assert "old tool output collapsed" in last
    assert last.count(big) == 2  # the two most recent outputs stay whole
    trims = [e for e in read_transcript(agent_dir / "transcript.jsonl") if e["event"] == "trim"]
    assert trims and all(t["chars_after"] <= budget for t in trims)


def test_stop_event_ends_before_any_call(tmp_path: Path) -> None:
    stop = threading.Event()
    stop.set()
    res, server, _, _ = _run(tmp_path, "anthropic", _ls(2), stop=stop)
    assert res.end_reason == "stopped" and res.turns == 0 and server.requests == []


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_reply_cut_at_the_token_limit_is_continued(provider: str, tmp_path: Path) -> None:
    script: list[Reply | Fail] = [Reply("I think the plan is", [], cut=True), Reply("done.", [])]
    res, server, _, _ = _run(tmp_path, provider, script, max_sessions=1)
    assert res.turns == 2 and res.sessions == 1 and server.remaining == 0
    assert CUT_NOTE in json.dumps(server.requests[1].body)
    assert "I think the plan is" in json.dumps(server.requests[1].body)


def test_restarted_agent_continues_sessions_and_totals(tmp_path: Path) -> None:
    res1, _, agent_dir, _ = _run(tmp_path, "anthropic", [Reply("first life", [])], max_sessions=1)
    res2, server, _, _ = _run(tmp_path, "anthropic", [Reply("second life", [])], max_sessions=1)
    assert res1.turns == res2.turns == 1
    opening = json.dumps(server.requests[0].body["messages"][0])
    assert "Session 2 begins" in opening and "first life" in opening  # notebook summary of the first life
    usage = json.loads((agent_dir / "usage.json").read_text())
    assert usage["requests"] == 2 and usage["sessions"] == 2 and usage["input_tokens"] == 200
    starts = [e for e in read_transcript(agent_dir / "transcript.jsonl") if e["event"] == "start"]
    assert len(starts) == 2
