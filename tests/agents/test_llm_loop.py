"""End to end: the LLM loop through the REAL anthropic / openai SDK clients against a local scripted
server replaying a research session, over a small ToolSet-conforming object doing real file ops,
real subprocesses, real scoring against held labels and real snapshot packing."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from scripted_llm_server import Fail, Reply, ScriptedLLMServer

from aar.agents.llm import LLMAgentConfig, run_llm_agent
from aar.agents.llm.transcript import read_transcript

DIRECTION = "Filter weak labels by confidence before training; compare keep fractions across seeds."
META = {
    "task": "math",
    "draw": "main",
    "size": "tiny",
    "description": "Is the arithmetic statement true?",
    "n": {"train_label": 8, "train_unlabel": 16, "test": 12},
    "seeds": [0, 1],
    "reference_mode": "probe",
    "baselines": {"probe": {"weak_acc": 0.5, "strong_acc": 0.9}},
}
LABELS = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1]
VALUES = [0.9, 0.2, 0.8, 0.65, 0.1, 0.55, 0.7, 0.3, 0.95, 0.62, 0.4, 0.58]  # label = value > 0.6 except one

RUN_PY = """import json, sys
from pathlib import Path

def main(data_dir: Path, out: Path, cfg: dict) -> None:
    rows = [json.loads(line) for line in (data_dir / "test.jsonl").read_text().splitlines()]
    preds = [int(float(r["text"].split("=")[1]) > cfg["threshold"]) for r in rows]
    out.mkdir(parents=True, exist_ok=True)
    (out / "predictions.json").write_text(json.dumps({"test": preds}))

if __name__ == "__main__":
    here = Path(__file__).parent
    main(Path(sys.argv[1]), Path(sys.argv[2]), json.loads((here / "config.json").read_text()))
"""


# --------------------------------------------------------------------------------------------------
# A ToolSet-conforming object (docs/contracts.md: specs() / call() -> ToolResult, audit.jsonl lines)
# --------------------------------------------------------------------------------------------------
@dataclass
class Spec:
    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass
class Result:
    ok: bool
    output: str
    data: dict[str, Any] | None = None


def _obj(**props: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {k: {"type": v} for k, v in props.items()},
        "required": list(props),
    }


class FileToolSet:
    def __init__(self, workspace: Path, audit: Path, agent: str, labels: list[int]) -> None:
        self.workspace = workspace
        self.audit = audit
        self.agent = agent
        self.labels = labels
        self.findings: list[dict[str, Any]] = []
        self.snapshots: dict[str, bytes] = {}

    def specs(self) -> list[Spec]:
        return [
            Spec("bash", "Run a shell command in the workspace.", _obj(command="string")),
            Spec("read_file", "Read a file.", _obj(path="string")),
            Spec("write_file", "Write a file.", _obj(path="string", content="string")),
            Spec(
                "edit_file", "Replace an exact string once.", _obj(path="string", old="string", new="string")
            ),
            Spec("list_files", "List files.", _obj(path="string")),
            Spec("evaluate", "Score predictions.json.", _obj(predictions_path="string", idea="string")),
            Spec(
                "share_finding",
                "Snapshot an idea folder and post a finding.",
                _obj(type="string", title="string", body="string", idea_dir="string"),
            ),
        ]

    def _path(self, rel: str) -> Path:
        p = (self.workspace / rel).resolve()
        if not p.is_relative_to(self.workspace.resolve()):
            raise ValueError(f"{rel} is outside the workspace")
        return p

    def call(self, name: str, args: dict[str, Any]) -> Result:
        t0 = time.monotonic()
        try:
            res = getattr(self, f"_{name}")(**args)
        except Exception as e:  # noqa: BLE001 - returned to the agent as a failed tool call
            res = Result(False, f"{type(e).__name__}: {e}")
        line = {
            "t": time.time(),
            "agent": self.agent,
            "tool": name,
            "args": args,
            "ok": res.ok,
            "output": res.output[:500],
            "seconds": time.monotonic() - t0,
        }
        with self.audit.open("a") as f:
            f.write(json.dumps(line) + "\n")
        return res

    def _bash(self, command: str) -> Result:
        p = subprocess.run(
            command, shell=True, cwd=self.workspace, capture_output=True, text=True, timeout=60
        )
        return Result(p.returncode == 0, f"exit {p.returncode}\n{p.stdout}{p.stderr}")

    def _read_file(self, path: str) -> Result:
        return Result(True, self._path(path).read_text())

    def _write_file(self, path: str, content: str) -> Result:
        p = self._path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(content)
        return Result(True, f"wrote {len(content)} chars to {path}")

    def _edit_file(self, path: str, old: str, new: str) -> Result:
        p = self._path(path)
        text = p.read_text()
        if text.count(old) != 1:
            return Result(False, f"edit_file: the string to replace occurs {text.count(old)} times in {path}")
        p.write_text(text.replace(old, new))
        return Result(True, f"edited {path}")

    def _list_files(self, path: str) -> Result:
        root = self._path(path)
        return Result(
            True, "\n".join(sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()))
        )

    def _evaluate(self, predictions_path: str, idea: str) -> Result:
        preds = json.loads(self._path(predictions_path).read_text())["test"]
        if len(preds) != len(self.labels):
            return Result(False, f"expected {len(self.labels)} predictions, got {len(preds)}")
        acc = sum(int(p == y) for p, y in zip(preds, self.labels, strict=True)) / len(self.labels)
        b = META["baselines"]["probe"]
        pgr = (acc - b["weak_acc"]) / (b["strong_acc"] - b["weak_acc"])
        data = {"submission_id": 1, "accuracy": round(acc, 3), "pgr": round(pgr, 3), "remaining_budget": 9}
        return Result(True, json.dumps(data), data)

    def _share_finding(self, type: str, title: str, body: str, idea_dir: str) -> Result:
        from aarlab.client.snapshots import pack

        data = pack(self._path(idea_dir))
        import hashlib

        sid = hashlib.sha256(data).hexdigest()
        self.snapshots[sid] = data
        self.findings.append({"type": type, "title": title, "body": body, "snapshot_id": sid})
        return Result(
            True, f"posted finding 1 with snapshot {sid[:12]}", {"finding_id": 1, "snapshot_id": sid}
        )


# --------------------------------------------------------------------------------------------------
NOTEBOOK_V1 = (
    "# Research notebook\n\n## Results\n- ideas/conf threshold 0.6: see evaluation\n\n## Next\n- try 0.55\n"
)


def research_script() -> list[Reply | Fail]:
    config = json.dumps({"threshold": 0.6}, indent=1)
    return [
        Fail(429, retry_after=0),
        Reply("Let me look at my workspace.", [("list_files", {"path": "."})], 1200, 30),
        Reply("", [("read_file", {"path": "NOTEBOOK.md"})], 1300, 20),
        Reply(
            "I'll write a threshold idea.",
            [
                ("write_file", {"path": "ideas/conf/config.json", "content": config}),
                ("write_file", {"path": "ideas/conf/run.py", "content": RUN_PY}),
            ],
            1500,
            400,
        ),
        Reply(
            "",
            [
                (
                    "edit_file",
                    {"path": "ideas/conf/config.json", "old": '"threshold": 0.7', "new": '"threshold": 0.61'},
                )
            ],
            1600,
            40,
        ),
        Fail(503),
        Reply(
            "That string is not in the file; let me read it.",
            [("read_file", {"path": "ideas/conf/config.json"})],
            1700,
            30,
        ),
        Reply(
            "",
            [
                (
                    "edit_file",
                    {"path": "ideas/conf/config.json", "old": '"threshold": 0.6', "new": '"threshold": 0.61'},
                )
            ],
            1800,
            40,
        ),
        Reply(
            "Run it.", [("bash", {"command": f"{sys.executable} ideas/conf/run.py data out/conf"})], 1900, 40
        ),
        Reply(
            "",
            [("evaluate", {"predictions_path": "out/conf/predictions.json", "idea": "ideas/conf"})],
            2000,
            30,
        ),
        Reply(
            "Worth sharing.",
            [
                (
                    "share_finding",
                    {
                        "type": "result",
                        "title": "threshold 0.61 on value",
                        "body": "accuracy as evaluated",
                        "idea_dir": "ideas/conf",
                    },
                )
            ],
            2100,
            60,
        ),
        Reply(
            "Saving notes.",
            [("write_file", {"path": "NOTEBOOK.md", "content": NOTEBOOK_V1})],
            200,
            80,
            cache_read_tokens=2000,
        ),
        Reply("Done for this session.", [], 300, 10, cache_read_tokens=2000),
        # session 2: the model sees its notebook and stops
        Reply("The notebook says to try 0.55 next; I will do that in a later session.", [], 900, 25),
    ]


def _write_data(workspace: Path) -> None:
    data = workspace / "data"
    data.mkdir(parents=True)
    rows = [json.dumps({"id": i, "text": f"value={v}"}) for i, v in enumerate(VALUES)]
    (data / "test.jsonl").write_text("\n".join(rows) + "\n")


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_research_session_over_real_sdk(
    provider: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("SCRIPTED_KEY", "sk-test-not-real")
    agent_dir = tmp_path / "run" / "agents" / "alice"
    workspace = agent_dir / "workspace"
    workspace.mkdir(parents=True)
    _write_data(workspace)
    toolset = FileToolSet(workspace, agent_dir / "audit.jsonl", "alice", LABELS)
    script = research_script()
    replies = [s for s in script if isinstance(s, Reply)]
    with ScriptedLLMServer(script) as server:
        cfg = LLMAgentConfig(
            provider=provider,
            model="scripted-model",
            base_url=server.url + ("/v1" if provider == "openai" else ""),
            api_key_env="SCRIPTED_KEY",
            max_turns=50,
            max_session_turns=20,
            max_sessions=2,
            retry_base_delay=0.01,
            retry_max_delay=0.05,
            max_retries=3,
            prices={"scripted-model": {"input": 3.0, "output": 15.0, "cache_read": 0.3}},
        )
        result = run_llm_agent(
            cfg, toolset, agent_dir=agent_dir, name="alice", meta=META, direction=DIRECTION
        )
        reqs = server.requests
        assert server.remaining == 0

    # --- the loop's outcome
    assert result.end_reason == "max_sessions"
    assert result.sessions == 2
    assert result.turns == len(replies)

    # --- what the server received
    assert [r.answered for r in reqs] == [429, 200, 200, 200, 200, 503] + [200] * 8
    assert all(r.api == provider for r in reqs)
    assert reqs[0].body == reqs[1].body  # the 429 was retried with the same request
    assert reqs[5].body == reqs[6].body  # and the 503
    auth = {k.lower(): v for k, v in reqs[1].headers.items()}
    assert "sk-test-not-real" in (auth.get("x-api-key", "") + auth.get("authorization", ""))
    body = reqs[1].body
    if provider == "anthropic":  # prompt caching: the system prompt is one cached block
        assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
        assert body["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
        system = body["system"][0]["text"]
    else:
        system = body["messages"][0]["content"]
    assert DIRECTION in system and "Is the arithmetic statement true?" in system
    assert "python -m aarlab.w2s.run_idea" in system  # library docs
    assert "weak_acc=0.5" in system
    tools = body["tools"]
    names = [t["name"] if provider == "anthropic" else t["function"]["name"] for t in tools]
    assert names == [s.name for s in toolset.specs()]
    schema = tools[2]["input_schema"] if provider == "anthropic" else tools[2]["function"]["parameters"]
    assert schema["required"] == ["path", "content"]
    assert body["model"] == "scripted-model"

    results = [_tool_results(r.body, provider) for r in reqs]
    # request 2 (after list_files) carries its result under the id the server issued
    rid, ok, content = results[2][-1]
    assert (
        rid == _call_id(provider, 2, 0) and ok and "data/test.jsonl" in content and "NOTEBOOK.md" in content
    )
    # both parallel write_file results are passed back, in order
    assert [r[0] for r in results[4][-2:]] == [_call_id(provider, 4, 0), _call_id(provider, 4, 1)]
    # the failing edit_file is reported as an error, and the model's recovery is based on it
    rid, ok, content = results[6][-1]
    assert rid == _call_id(provider, 5, 0) and not ok and "occurs 0 times" in content
    rid, ok, content = results[7][-1]
    assert ok and '"threshold": 0.6' in content
    # the evaluate result reaches the model
    rid, ok, content = results[10][-1]
    acc = sum(int((v > 0.61) == bool(y)) for v, y in zip(VALUES, LABELS, strict=True)) / len(LABELS)
    assert ok and json.loads(content)["accuracy"] == round(acc, 3)
    # session 2 starts fresh with the notebook the model wrote plus the loop's session summary
    opening = _first_user_text(reqs[-1].body, provider)
    assert "Session 2 begins" in opening and "try 0.55" in opening and "Session 1 summary" in opening
    assert len(_messages(reqs[-1].body, provider)) == 1

    # --- workspace effects of the tools
    assert json.loads((workspace / "ideas/conf/config.json").read_text()) == {"threshold": 0.61}
    assert len(json.loads((workspace / "out/conf/predictions.json").read_text())["test"]) == len(LABELS)
    assert toolset.findings[0]["title"] == "threshold 0.61 on value"
    notebook = (workspace / "NOTEBOOK.md").read_text()
    assert notebook.startswith(NOTEBOOK_V1)
    assert "## Session 1 summary" in notebook and "## Session 2 summary" in notebook
    assert f"accuracy={round(acc, 3)}" in notebook and "shared finding: threshold 0.61 on value" in notebook
    assert "edit_file×2, evaluate×1" in notebook and "; errors: 1" in notebook

    # --- transcript and audit
    events = read_transcript(agent_dir / "transcript.jsonl")
    kinds = [e["event"] for e in events]
    assert kinds.count("response") == len(replies) and kinds.count("session_end") == 2
    assert [e["status"] for e in events if e["event"] == "retry"] == [429, 503]
    tool_events = [e for e in events if e["event"] == "tool"]
    assert len(tool_events) == sum(len(r.tool_calls) for r in replies) == 11
    assert [e["ok"] for e in tool_events].count(False) == 1
    assert all(e["agent"] == "alice" for e in events)
    assert kinds[-1] == "stop"
    assert events[0]["event"] == "start" and DIRECTION in events[0]["system"]
    audit = [json.loads(line) for line in (agent_dir / "audit.jsonl").read_text().splitlines()]
    assert [a["tool"] for a in audit] == [e["tool"] for e in tool_events]

    # --- token and dollar accounting
    usage = json.loads((agent_dir / "usage.json").read_text())
    tin = sum(r.input_tokens for r in replies)
    tout = sum(r.output_tokens for r in replies)
    tcache = sum(r.cache_read_tokens for r in replies)
    assert tcache == 4000 and usage["cache_read_input_tokens"] == tcache
    assert usage["input_tokens"] == tin and usage["output_tokens"] == tout
    assert usage["requests"] == len(replies) and usage["retries"] == 2 and usage["sessions"] == 2
    assert usage["tool_calls"] == 11 and usage["tool_errors"] == 1
    assert usage["priced"] is True
    assert usage["dollars"] == pytest.approx((tin * 3.0 + tout * 15.0 + tcache * 0.3) / 1e6)
    assert sum(e["dollars"] for e in events if e["event"] == "response") == pytest.approx(usage["dollars"])


def _call_id(provider: str, request_number: int, i: int) -> str:
    return f"toolu_{request_number:03d}_{i}" if provider == "anthropic" else f"call_{request_number:03d}_{i}"


def _messages(body: dict[str, Any], provider: str) -> list[dict[str, Any]]:
    return body["messages"] if provider == "anthropic" else body["messages"][1:]


def _first_user_text(body: dict[str, Any], provider: str) -> str:
    content = _messages(body, provider)[0]["content"]
    return content if isinstance(content, str) else "".join(b.get("text", "") for b in content)


def _tool_results(body: dict[str, Any], provider: str) -> list[tuple[str, bool, str]]:
    """(call id, ok, content) of every tool result in a request, in order."""
    out: list[tuple[str, bool, str]] = []
    for m in _messages(body, provider):
        if provider == "anthropic" and isinstance(m["content"], list):
            for b in m["content"]:
                if b.get("type") == "tool_result":
                    out.append((b["tool_use_id"], not b.get("is_error", False), b["content"]))
        elif provider == "openai" and m["role"] == "tool":
            ok = not m["content"].startswith("ERROR: ")
            out.append((m["tool_call_id"], ok, m["content"].removeprefix("ERROR: ")))
    return out
