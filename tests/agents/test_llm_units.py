"""Unit tests of the LLM loop's parts: retries, context trimming, API conversions, accounting, config."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from aar.agents.llm.accounting import UsageTracker, cost
from aar.agents.llm.config import LLMAgentConfig, ModelPrice, default_prices
from aar.agents.llm.context import trim_context
from aar.agents.llm.messages import Msg, ToolCall, ToolOutput, Usage
from aar.agents.llm.notebook import NOTEBOOK, TEMPLATE, read_notebook
from aar.agents.llm.providers.anthropic_provider import to_anthropic_messages
from aar.agents.llm.providers.base import ErrorInfo
from aar.agents.llm.providers.openai_provider import parse_arguments, to_openai_messages
from aar.agents.llm.retry import GiveUp, RetryPolicy, call_with_retries


class Boom(Exception):
    def __init__(self, status: int | None) -> None:
        super().__init__(f"status {status}")
        self.status = status


def classify(exc: BaseException) -> ErrorInfo | None:
    if isinstance(exc, Boom):
        return ErrorInfo(exc.status in (429, 500, 529) or exc.status is None, exc.status, None, str(exc))
    return None


def test_retry_backoff_grows_and_succeeds() -> None:
    errors = [Boom(429), Boom(529), Boom(500)]
    slept: list[float] = []
    seen: list[tuple[int, int | None]] = []

    def fn() -> str:
        if errors:
            raise errors.pop(0)
        return "ok"

    policy = RetryPolicy(max_retries=5, base_delay=1.0, max_delay=3.0)
    out = call_with_retries(
        fn,
        classify,
        policy,
        on_retry=lambda a, i, d: seen.append((a, i.status)),
        sleep=slept.append,
        rng=random.Random(0),
    )
    assert out == "ok"
    assert seen == [(1, 429), (2, 529), (3, 500)]
    assert 0.5 <= slept[0] <= 1.0 and 1.0 <= slept[1] <= 2.0 and 1.5 <= slept[2] <= 3.0  # 1, 2, 4 capped at 3


def test_retry_gives_up_and_does_not_retry_client_errors() -> None:
    calls = {"n": 0}

    def always(status: int) -> None:
        calls["n"] += 1
        raise Boom(status)

    with pytest.raises(GiveUp) as e:
        call_with_retries(lambda: always(429), classify, RetryPolicy(2, 0, 0), sleep=lambda s: None)
    assert calls["n"] == 3 and e.value.attempts == 3 and e.value.info.status == 429
    calls["n"] = 0
    with pytest.raises(GiveUp):
        call_with_retries(lambda: always(400), classify, RetryPolicy(5, 0, 0), sleep=lambda s: None)
    assert calls["n"] == 1
    with pytest.raises(KeyError):  # not an API error: a bug, re-raised as is
        call_with_retries(lambda: {}["x"], classify, RetryPolicy(5, 0, 0), sleep=lambda s: None)


def test_retry_after_header_is_honoured_but_capped() -> None:
    policy = RetryPolicy(3, base_delay=1.0, max_delay=10.0)
    rng = random.Random(0)
    assert policy.delay(0, ErrorInfo(True, 429, 4.0, ""), rng) == 4.0
    assert policy.delay(0, ErrorInfo(True, 429, 99.0, ""), rng) == 10.0


def _conversation(n_turns: int, output_chars: int) -> list[Msg]:
    msgs = [Msg("user", "opening with notebook")]
    for i in range(n_turns):
        msgs.append(Msg("assistant", f"turn {i}", tool_calls=[ToolCall(f"c{i}", "bash", {"command": "ls"})]))
        msgs.append(Msg("tool", results=[ToolOutput(f"c{i}", "bash", f"out{i}:" + "x" * output_chars, True)]))
    return msgs


def test_trim_collapses_old_outputs_then_drops_turns() -> None:
    msgs = _conversation(10, 5000)
    out, rep = trim_context("system", msgs, budget=20_000, keep_recent_turns=3, collapsed_chars=100)
    assert rep.collapsed == 7 and rep.dropped_turns == 0 and rep.chars_after <= 20_000
    assert len(out[-1].results[0].output) == 5005 and len(out[-5].results[0].output) == 5005  # recent intact
    assert "old tool output collapsed" in out[2].results[0].output
    assert msgs[2].results[0].output.endswith("x")  # the input list is not mutated
    out2, rep2 = trim_context("system", msgs, budget=8_000, keep_recent_turns=3, collapsed_chars=100)
    assert rep2.dropped_turns > 0 and rep2.chars_after <= 8_000
    assert out2[0].role == "user" and out2[1].role == "assistant"
    assert "earlier turn(s) of this session were dropped" in out2[0].text
    # every tool result still follows its own assistant turn
    for a, t in zip(out2[1::2], out2[2::2], strict=True):
        assert a.role == "assistant" and t.role == "tool" and a.tool_calls[0].id == t.results[0].call_id
    # trimming again accumulates the dropped count in one note
    out3, rep3 = trim_context("system", out2, budget=3_000, keep_recent_turns=1, collapsed_chars=50)
    assert out3[0].text.count("[context trimmed:") == 1
    assert f"{rep2.dropped_turns + rep3.dropped_turns} earlier turn(s)" in out3[0].text


def test_trim_is_identity_under_budget() -> None:
    msgs = _conversation(3, 10)
    out, rep = trim_context("s", msgs, budget=100_000, keep_recent_turns=2, collapsed_chars=10)
    assert out is msgs and rep.collapsed == 0 and rep.dropped_turns == 0


def test_anthropic_conversion_alternates_roles() -> None:
    msgs = [
        Msg("user", "go"),
        Msg(
            "assistant",
            "",
            tool_calls=[
                ToolCall("t1", "read_file", {"path": "a"}),
                ToolCall("t2", "bash", {"command": "false"}),
            ],
        ),
        Msg(
            "tool",
            "[loop] last turn",
            results=[ToolOutput("t1", "read_file", "A", True), ToolOutput("t2", "bash", "exit 1", False)],
        ),
    ]
    out = to_anthropic_messages(msgs)
    assert [m["role"] for m in out] == ["user", "assistant", "user"]
    assert out[1]["content"] == [
        {"type": "tool_use", "id": "t1", "name": "read_file", "input": {"path": "a"}},
        {"type": "tool_use", "id": "t2", "name": "bash", "input": {"command": "false"}},
    ]
    blocks = out[2]["content"]
    assert blocks[0] == {"type": "tool_result", "tool_use_id": "t1", "content": "A", "is_error": False}
    assert blocks[1]["is_error"] is True and blocks[2] == {"type": "text", "text": "[loop] last turn"}


def test_openai_conversion_and_argument_parsing() -> None:
    msgs = [
        Msg("user", "go"),
        Msg("assistant", "hm", tool_calls=[ToolCall("c1", "bash", {"command": "ls"})]),
        Msg("tool", "note", results=[ToolOutput("c1", "bash", "boom", False)]),
    ]
    out = to_openai_messages("SYS", msgs)
    assert out[0] == {"role": "system", "content": "SYS"}
    assert out[2]["tool_calls"][0]["function"] == {"name": "bash", "arguments": '{"command": "ls"}'}
    assert out[3] == {"role": "tool", "tool_call_id": "c1", "content": "ERROR: boom"}
    assert out[4] == {"role": "user", "content": "note"}
    assert parse_arguments('{"a": 1}') == ({"a": 1}, None)
    args, err = parse_arguments("{not json")
    assert args == {} and err is not None and "not valid JSON" in err
    assert parse_arguments("[1]")[1] is not None


def test_cost_and_usage_file_resume(tmp_path: Path) -> None:
    price = ModelPrice(input=3.0, output=15.0, cache_read=0.3)
    u = Usage(input_tokens=1_000_000, output_tokens=100_000, cache_read_input_tokens=1_000_000)
    assert cost(u, price) == pytest.approx(3.0 + 1.5 + 0.3)
    assert cost(u, None) == 0.0
    path = tmp_path / "usage.json"
    t = UsageTracker(path, agent="a", provider="anthropic", model="m", price=price)
    t.add(Usage(input_tokens=1000, output_tokens=100))
    t.bump("sessions")
    again = UsageTracker(path, agent="a", provider="anthropic", model="m", price=price)  # a restarted agent
    again.add(Usage(input_tokens=500, output_tokens=50))
    data = json.loads(path.read_text())
    assert data["input_tokens"] == 1500 and data["output_tokens"] == 150 and data["requests"] == 2
    assert data["sessions"] == 1
    assert data["dollars"] == pytest.approx((1500 * 3 + 150 * 15) / 1e6)


def test_config_prices_and_files(tmp_path: Path) -> None:
    assert "claude-sonnet-4-5" in default_prices()
    cfg = LLMAgentConfig(model="claude-sonnet-4-5")
    assert cfg.price() == default_prices()["claude-sonnet-4-5"] and cfg.key_env() == "ANTHROPIC_API_KEY"
    prices = tmp_path / "prices.toml"
    prices.write_text('[models."my-local"]\ninput = 0.0\noutput = 0.5\n')
    conf = tmp_path / "agent.toml"
    conf.write_text(
        f'provider = "openai"\nmodel = "my-local"\nbase_url = "http://x/v1"\nprices_file = "{prices}"\n'
    )
    cfg2 = LLMAgentConfig.from_file(conf)
    assert cfg2.key_env() == "OPENAI_API_KEY" and cfg2.price() == ModelPrice(input=0.0, output=0.5)
    assert LLMAgentConfig(model="unknown-model").price() is None
    with pytest.raises(ValueError):
        LLMAgentConfig(retry_base_delay=5, retry_max_delay=1)


def test_notebook_created_and_long_notebooks_keep_head_and_tail(tmp_path: Path) -> None:
    assert read_notebook(tmp_path, 1000) == TEMPLATE
    (tmp_path / NOTEBOOK).write_text("HEAD" + "m" * 10_000 + "TAIL")
    text = read_notebook(tmp_path, 1000)
    assert text.startswith("HEAD") and text.endswith("TAIL") and "not shown" in text and len(text) < 1100


def test_experiment_commands_wait_for_a_compute_slot(tmp_path: Path) -> None:
    import threading
    import time

    from aar.agents.llm.queued_sandbox import QueuedSandbox, is_experiment
    from aar.compute import ComputeQueue
    from aar.sandbox import SandboxSpec, make_sandbox

    assert is_experiment("python -m aarlab.w2s.run_idea ideas/a --data-dir d --out o --seed 0")
    assert not is_experiment("ls -la && cat NOTEBOOK.md")
    inner = make_sandbox("none", SandboxSpec(workspace=tmp_path / "ws"), allow_unsafe=True)
    queue = ComputeQueue(tmp_path / "queue", 1, threads=3)
    log = tmp_path / "agents" / "me" / "experiments.jsonl"
    sb = QueuedSandbox(inner, queue, "me", log=log)
    assert sb.run("echo ${AAR_THREADS:-none}").stdout.strip() == "none"  # not an experiment: no slot
    held, release = threading.Event(), threading.Event()

    def other() -> None:
        with queue.slot("other", "busy"):
            held.set()
            release.wait(10)

    t = threading.Thread(target=other)
    t.start()
    held.wait(10)
    threading.Timer(0.5, release.set).start()
    t0 = time.monotonic()
    res = sb.run("QUEUE=1 sh -c 'echo $OMP_NUM_THREADS'")
    waited = time.monotonic() - t0
    t.join()
    assert res.stdout.strip() == "3" and waited >= 0.4 and sb.experiments == 1
    # recorded like a searcher's idea run: on this host, measured CPU, the wait for the slot
    from aar.cluster.node import node_name

    (rec,) = [json.loads(x) for x in log.read_text().splitlines()]
    assert rec["node"] == node_name() == res.node and rec["label"].startswith("QUEUE=1")
    assert rec["cpu_seconds"] == res.cpu_seconds is not None and rec["waited"] >= 0.4 and rec["threads"] == 3
    assert json.loads((log.parent / "running.json").read_text()) == []
    # cancelled while it waits: the ticket is given up, nothing runs, nothing is recorded
    held.clear()
    release.clear()
    t = threading.Thread(target=other)
    t.start()
    held.wait(10)
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    res = sb.run("QUEUE=1 touch ran", cancel=cancel)
    release.set()
    t.join()
    assert res.killed_reason == "cancelled" and not (tmp_path / "ws" / "ran").exists()
    assert len(log.read_text().splitlines()) == 1 and queue.status() == []


def test_anthropic_cache_breakpoints_do_not_mutate_the_conversation() -> None:
    from aar.agents.llm.providers.anthropic_provider import with_cache_breakpoints

    turns = to_anthropic_messages([Msg("user", "hello")])
    system, cached = with_cache_breakpoints("SYS", turns)
    assert system == [{"type": "text", "text": "SYS", "cache_control": {"type": "ephemeral"}}]
    assert cached[-1]["content"] == [
        {"type": "text", "text": "hello", "cache_control": {"type": "ephemeral"}}
    ]
    assert "cache_control" not in json.dumps(turns)


def test_transcript_trims_nested_strings(tmp_path: Path) -> None:
    from aar.agents.llm.transcript import Transcript, read_transcript

    t = Transcript(tmp_path / "t.jsonl", "a", field_chars=100)
    t.log("tool", args={"path": "x", "content": "z" * 5000}, output="o" * 300, n=3)
    (e,) = read_transcript(tmp_path / "t.jsonl")
    assert (
        e["args"]["path"] == "x"
        and len(e["args"]["content"]) < 200
        and "4900 more chars" in e["args"]["content"]
    )
    assert len(e["output"]) < 200 and e["n"] == 3 and e["agent"] == "a" and e["event"] == "tool"
