"""The LLM research loop: sessions of tool-use turns against a provider, over an agent ToolSet."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from aar.agents.llm.accounting import UsageTracker
from aar.agents.llm.config import LLMAgentConfig
from aar.agents.llm.context import trim_context
from aar.agents.llm.messages import ModelTurn, Msg, ToolCall, ToolOutput, ToolSpecView, spec_view
from aar.agents.llm.notebook import SessionStats, append_summary, read_notebook
from aar.agents.llm.prompt import CUT_NOTE, LAST_TURN_NOTE, build_system_prompt, opening_message
from aar.agents.llm.providers import Provider, make_provider
from aar.agents.llm.retry import GiveUp, RetryPolicy, call_with_retries
from aar.agents.llm.transcript import Transcript, clip_middle

TRUNCATED = frozenset({"max_tokens", "length"})  # Anthropic / OpenAI: the reply hit the output limit


class ToolSetLike(Protocol):
    """What the loop needs of `aar.agents.tools.ToolSet` (see docs/contracts.md)."""

    workspace: Path

    def specs(self) -> list[Any]: ...

    def call(self, name: str, args: dict[str, Any]) -> Any: ...


@dataclass
class LoopResult:
    sessions: int
    turns: int
    end_reason: str  # max_turns | max_sessions | budget | stopped | model_error
    usage: dict[str, Any]


def _run_tool(toolset: ToolSetLike, call: ToolCall) -> tuple[bool, str, dict[str, Any] | None]:
    if call.parse_error:
        return False, call.parse_error, None
    try:
        res = toolset.call(call.name, call.args)
    except Exception as exc:  # noqa: BLE001 - a tool crash is reported to the model, not fatal
        return False, f"tool {call.name} raised {type(exc).__name__}: {exc}", None
    return bool(res.ok), str(res.output), getattr(res, "data", None)


class _Session:
    def __init__(self, loop: LLMLoop, number: int) -> None:
        self.loop = loop
        self.stats = SessionStats(number=number)
        cfg = loop.cfg
        notebook = read_notebook(loop.workspace, cfg.notebook_chars)
        text = opening_message(
            session=number,
            notebook=notebook,
            turns_left=cfg.max_turns - loop.turns,
            session_turns=cfg.max_session_turns,
        )
        self.messages: list[Msg] = [Msg("user", text)]


class LLMLoop:
    def __init__(
        self,
        cfg: LLMAgentConfig,
        toolset: ToolSetLike,
        *,
        agent_dir: Path,
        name: str,
        meta: dict[str, Any],
        direction: str,
        provider: Provider | None = None,
        data_dir: str | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.cfg = cfg
        self.toolset = toolset
        self.workspace = Path(toolset.workspace)
        self.name = name
        self.provider = provider or make_provider(cfg)
        self.stop = stop or threading.Event()
        self.transcript = Transcript(agent_dir / "transcript.jsonl", name)
        self.usage = UsageTracker(
            agent_dir / "usage.json", agent=name, provider=cfg.provider, model=cfg.model, price=cfg.price()
        )
        self.policy = RetryPolicy(cfg.max_retries, cfg.retry_base_delay, cfg.retry_max_delay)
        self.system = build_system_prompt(
            name=name, meta=meta, direction=direction, data_dir=data_dir,
            workspace=str(_seen_workspace(toolset)),
        )
        self.tools: list[ToolSpecView] = [spec_view(s) for s in toolset.specs()]
        self.turns = 0

    # -- one model call -------------------------------------------------------------------------------
    def _call_model(self, session: _Session) -> ModelTurn:
        cfg = self.cfg
        msgs, rep = trim_context(
            self.system,
            session.messages,
            cfg.context_chars,
            cfg.keep_recent_turns,
            cfg.collapsed_output_chars,
        )
        if rep.collapsed or rep.dropped_turns:
            self.transcript.log(
                "trim",
                session=session.stats.number,
                chars_before=rep.chars_before,
                chars_after=rep.chars_after,
                collapsed=rep.collapsed,
                dropped_turns=rep.dropped_turns,
            )
            session.messages = msgs
        self.transcript.log(
            "request",
            session=session.stats.number,
            turn=self.turns + 1,
            messages=len(msgs),
            chars=rep.chars_after,
        )

        def on_retry(attempt: int, info: Any, delay: float) -> None:
            self.usage.bump("retries")
            self.transcript.log(
                "retry",
                session=session.stats.number,
                attempt=attempt,
                status=info.status,
                delay=round(delay, 3),
                error=info.message,
            )

        return call_with_retries(
            lambda: self.provider.complete(self.system, msgs, self.tools),
            self.provider.classify,
            self.policy,
            on_retry=on_retry,
        )

    def _budget_left(self) -> bool:
        return self.cfg.max_dollars is None or self.usage.totals.dollars < self.cfg.max_dollars

    # -- one session ----------------------------------------------------------------------------------
    def _run_session(self, number: int) -> str:
        cfg = self.cfg
        s = _Session(self, number)
        st = s.stats
        self.transcript.log("session_start", session=number, notebook_chars=len(s.messages[0].text))
        reason = "session_turns"
        for k in range(cfg.max_session_turns):
            if self.stop.is_set():
                reason = "stopped"
                break
            if self.turns >= cfg.max_turns:
                reason = "max_turns"
                break
            if not self._budget_left():
                reason = "budget"
                break
            t0 = time.monotonic()
            try:
                turn = self._call_model(s)
            except GiveUp as e:
                self.usage.bump("failed_requests")
                self.transcript.log("error", session=number, error=str(e), status=e.info.status)
                reason = "model_error"
                break
            self.turns += 1
            st.turns += 1
            dollars = self.usage.add(turn.usage)
            st.input_tokens += turn.usage.input_tokens + turn.usage.cache_read_input_tokens
            st.output_tokens += turn.usage.output_tokens
            st.dollars += dollars
            if turn.text:
                st.last_text = turn.text
            self.transcript.log(
                "response",
                session=number,
                turn=self.turns,
                seconds=round(time.monotonic() - t0, 3),
                stop_reason=turn.stop_reason,
                text=turn.text,
                tool_calls=[{"id": c.id, "name": c.name, "args": c.args} for c in turn.tool_calls],
                usage=vars(turn.usage),
                dollars=round(dollars, 8),
            )
            s.messages.append(Msg("assistant", turn.text, tool_calls=turn.tool_calls))
            if not turn.tool_calls:
                if turn.stop_reason in TRUNCATED and k + 1 < cfg.max_session_turns:
                    s.messages.append(Msg("user", CUT_NOTE))  # cut off mid-thought: let it continue
                    continue
                reason = "model_done"
                break
            results = [self._tool(number, st, c) for c in turn.tool_calls]
            last_next = k + 2 == cfg.max_session_turns or self.turns + 1 == cfg.max_turns
            s.messages.append(Msg("tool", LAST_TURN_NOTE if last_next else "", results=results))
        st.end_reason = reason
        self.usage.bump("sessions")
        summary = append_summary(self.workspace, st)
        self.transcript.log("session_end", session=number, reason=reason, turns=st.turns, summary=summary)
        return reason

    def _tool(self, session: int, st: SessionStats, call: ToolCall) -> ToolOutput:
        t0 = time.monotonic()
        ok, output, data = _run_tool(self.toolset, call)
        st.tools[call.name] += 1
        self.usage.bump("tool_calls")
        if not ok:
            st.tool_errors += 1
            self.usage.bump("tool_errors")
        if ok and call.name == "evaluate" and isinstance(data, dict):
            ev = {k: data[k] for k in ("accuracy", "pgr", "submission_id", "remaining_budget") if k in data}
            idea = call.args.get("idea") or call.args.get("idea_dir") or call.args.get("folder")
            st.evaluations.append({"idea": idea, **ev} if idea else ev)
        if ok and call.name == "share_finding":
            st.findings.append(str(call.args.get("title", "")))
        self.transcript.log(
            "tool",
            session=session,
            call_id=call.id,
            tool=call.name,
            args=call.args,
            ok=ok,
            output=output,
            seconds=round(time.monotonic() - t0, 3),
        )
        return ToolOutput(call.id, call.name, clip_middle(output, self.cfg.tool_output_chars), ok)

    # -- all sessions ---------------------------------------------------------------------------------
    def run(self) -> LoopResult:
        cfg = self.cfg
        self.transcript.log(
            "start",
            provider=cfg.provider,
            model=cfg.model,
            base_url=cfg.base_url,
            tools=[t.name for t in self.tools],
            system=self.system,
        )
        first = self.usage.totals.sessions + 1  # a restarted agent continues its numbering
        sessions = 0
        reason = "max_sessions"
        while sessions < cfg.max_sessions:
            if self.turns >= cfg.max_turns:
                reason = "max_turns"
                break
            if not self._budget_left():
                reason = "budget"
                break
            if self.stop.is_set():
                reason = "stopped"
                break
            r = self._run_session(first + sessions)
            sessions += 1
            if r in ("stopped", "model_error", "budget", "max_turns"):
                reason = r
                break
        self.transcript.log(
            "stop",
            reason=reason,
            sessions=sessions,
            turns=self.turns,
            dollars=round(self.usage.totals.dollars, 8),
        )
        return LoopResult(sessions, self.turns, reason, dict(vars(self.usage.totals)))


def run_llm_agent(
    cfg: LLMAgentConfig,
    toolset: ToolSetLike,
    *,
    agent_dir: Path,
    name: str,
    meta: dict[str, Any],
    direction: str,
    provider: Provider | None = None,
    data_dir: str | None = None,
    stop: threading.Event | None = None,
) -> LoopResult:
    """Run the research loop until max_turns / max_sessions / max_dollars / `stop` / a model failure.

    `agent_dir` is RUN_DIR/agents/<name> (transcript.jsonl and usage.json go there); `meta` is the task's
    public meta.json; `direction` the agent's research direction."""
    loop = LLMLoop(
        cfg,
        toolset,
        agent_dir=agent_dir,
        name=name,
        meta=meta,
        direction=direction,
        provider=provider,
        data_dir=data_dir,
        stop=stop,
    )
    return loop.run()


def _seen_workspace(toolset: Any) -> Path:
    """The workspace as the agent's commands see it (/workspace in a research sandbox)."""
    inside = getattr(getattr(toolset, "sandbox", None), "inside", None)
    spec = getattr(getattr(toolset, "sandbox", None), "spec", None)
    if callable(inside) and spec is not None and hasattr(spec, "workspace_inside"):
        return Path(inside(spec.workspace_inside))
    return Path(toolset.workspace)
