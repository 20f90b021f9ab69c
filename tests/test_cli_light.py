"""`aar --help` stays fast: the CLI modules load no torch, mcp, fastapi, ...

Timings: benchmarks/cli_startup.py.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("torch", "transformers", "mcp", "fastapi", "uvicorn", "sqlalchemy", "numpy", "anyio", "httpx",
         "rich", "aar.tasks.zoo.build", "aar.supervisor.config")

# every command and group, as `aar ... --help` names them
COMMANDS = [[], ["zoo"], ["zoo", "build"], ["w2s"], ["w2s", "prepare"], ["w2s", "baselines"],
            ["w2s", "import-aar"], ["serve"], ["mcp"], ["mcp", "config"], ["agents"], ["agents", "add"],
            ["sandbox"], ["sandbox", "check"], ["run"], ["demo"],
            ["report"], ["resume"]]

PROBE = """
import contextlib, io, json, sys
import typer  # what typer loads itself (rich, in typer < 0.26) is typer's cost, not ours
HEAVY = [m for m in HEAVY if m not in sys.modules]
import aar.cli
loaded = {"import": [m for m in HEAVY if m in sys.modules]}
for cmd in COMMANDS:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            aar.cli.main([*cmd, "--help"])
        except SystemExit as e:
            code = e.code
    loaded[" ".join(cmd) or "aar"] = {"code": code, "usage": out.getvalue().startswith("Usage: aar"),
                                      "heavy": [m for m in HEAVY if m in sys.modules]}
print(json.dumps(loaded))
"""


def test_import_and_help_load_nothing_heavy() -> None:
    code = f"HEAVY = {HEAVY!r}\nCOMMANDS = {COMMANDS!r}\n" + PROBE
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = json.loads(out)
    assert loaded.pop("import") == []
    assert len(loaded) == len(COMMANDS)
    for name, res in loaded.items():
        assert res == {"code": 0, "usage": True, "heavy": []}, name


def test_every_command_is_listed() -> None:
    """COMMANDS above covers the whole tree, so a new command cannot slip past the check."""
    from typer.main import get_command

    from aar.cli import app

    found: list[list[str]] = []

    def walk(cmd, path: list[str]) -> None:  # noqa: ANN001
        found.append(path)
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            walk(sub, [*path, name])

    walk(get_command(app), [])
    assert sorted(found) == sorted(COMMANDS)


def test_light_task_names_match_the_registry() -> None:
    from aar.report.cli import TASK_NAMES as report_names
    from aar.tasks.cli import TASK_NAMES
    from aar.tasks.registry import TASKS

    assert TASK_NAMES == report_names == TASKS
