"""The tool schemas: every property described, unknown or ill-typed arguments refused with one line, and
every successful result's data matching the tool's declared output schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from aar.agents.audit import AuditLog
from aar.agents.tools import ToolSet
from aar.agents.tools.specs import SPECS
from aar.sandbox import Limits, make_sandbox
from aar.sandbox.layout import research_spec

LIMITS = Limits(cpu_seconds=20, memory_mb=512, max_procs=32, wall_seconds=10, disk_mb=16, tmp_mb=8)


def _props(schema: dict, where: str):  # noqa: ANN202
    for name, prop in schema.get("properties", {}).items():
        yield f"{where}.{name}", prop


def test_every_property_is_described_and_schemas_are_valid() -> None:
    assert len(SPECS) == 11
    for spec in SPECS:
        s = spec.input_schema
        assert s["type"] == "object" and s["additionalProperties"] is False, spec.name
        assert not {"anyOf", "oneOf", "allOf"} & set(s), (
            spec.name
        )  # the Anthropic API refuses root combinators
        Draft202012Validator.check_schema(s)
        for where, prop in _props(s, spec.name):
            assert prop.get("description", "").strip(), f"{where} has no description"
        assert spec.output_schema is not None, spec.name
        Draft202012Validator.check_schema(spec.output_schema)
        assert spec.annotations["openWorldHint"] is False
        assert spec.title and spec.description
    read_only = {s.name for s in SPECS if s.annotations.get("readOnlyHint")}
    assert read_only == {"read_file", "list_files", "read_forum", "search_forum", "leaderboard"}


@pytest.fixture()
def tools(tmp_path: Path) -> ToolSet:
    ws = tmp_path / "a1" / "workspace"
    sb = make_sandbox("bwrap", research_spec(ws, None, limits=LIMITS))
    return ToolSet(sb, None, ws, AuditLog(tmp_path / "a1" / "audit.jsonl", "a1"), "math")


@pytest.mark.parametrize(
    ("name", "args", "says"),
    [
        ("bash", {"cmd": "ls"}, "unknown argument(s) 'cmd' for bash; it takes: command, timeout"),
        ("bash", {"command": "ls", "timeout": "soon"}, "timeout: 'soon' is not of type 'number'"),
        ("bash", {}, "'command' is a required property"),
        ("read_file", {"path": "a", "offset": 0}, "offset: 0 is less than the minimum of 1"),
        ("evaluate", {"predictions": [0, 2]}, "predictions.1: 2 is not one of [0, 1]"),
        ("share_finding", {"title": "t", "body": "b", "type": "rumour"}, "type: 'rumour' is not one of"),
        ("leaderboard", {"task": "math", "all": True}, "unknown argument(s) 'all' for leaderboard"),
    ],
)
def test_bad_arguments_are_refused_in_one_line(tools: ToolSet, name: str, args: dict, says: str) -> None:
    res = tools.call(name, args)
    assert not res.ok and says in res.output and "\n" not in res.output, res.output


def test_unknown_tool_is_refused(tools: ToolSet) -> None:
    res = tools.call("rm_rf", {})
    assert not res.ok and "unknown tool 'rm_rf'" in res.output


def test_results_match_the_output_schemas(tools: ToolSet) -> None:
    by_name = {s.name: s for s in SPECS}
    calls = [
        ("write_file", {"path": "idea/run.py", "content": "x = 1\n"}),
        ("edit_file", {"path": "idea/run.py", "old": "x = 1", "new": "x = 2"}),
        ("read_file", {"path": "/workspace/idea/run.py"}),
        ("list_files", {"recursive": True}),
        ("bash", {"command": "cat idea/run.py"}),
    ]
    for name, args in calls:
        res = tools.call(name, args)
        assert res.ok, res.output
        Draft202012Validator(by_name[name].output_schema).validate(res.data)
    assert tools.call("write_file", {"path": "a.txt", "content": "hi"}).data == {"path": "a.txt", "chars": 2}
