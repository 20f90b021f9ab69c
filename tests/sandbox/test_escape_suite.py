"""`aar sandbox check --json` runs the escape suite in a real bwrap sandbox: every attempt is blocked."""

from __future__ import annotations

import json
import os

from typer.testing import CliRunner

from aar.cli import app


def test_escape_suite_all_blocked() -> None:
    key = os.environ.get("ANTHROPIC_API_KEY")
    res = CliRunner().invoke(app, ["sandbox", "check", "--json"])
    out = json.loads(res.stdout)
    escaped = [a for a in out["attempts"] if not a["blocked"]]
    assert escaped == [], escaped
    assert res.exit_code == 0
    assert len(out["attempts"]) >= 20
    names = {a["name"] for a in out["attempts"]}
    for must in (
        "read_private_labels",
        "proc_root_host_pid",
        "read_run_db",
        "tcp_localhost",
        "outside_network",
        "write_usr",
        "parent_env_secret",
        "fork_bomb",
        "memory_bomb",
        "disk_fill",
        "sleep_past_limit",
        "symlink_root_out",
    ):
        assert must in names
    assert os.environ.get("ANTHROPIC_API_KEY") == key  # the decoy key was removed again


def test_escape_suite_detects_an_escape_without_sandbox() -> None:
    """The judge is not vacuous: with no sandbox, reading the private labels escapes."""
    res = CliRunner().invoke(
        app,
        [
            "sandbox",
            "check",
            "--json",
            "--kind",
            "none",
            "--unsafe-no-sandbox",
            "--only",
            "read_private_labels",
            "--only",
            "write_ro_public",
        ],
    )
    out = json.loads(res.stdout)
    assert res.exit_code == 1
    assert {a["name"]: a["blocked"] for a in out["attempts"]} == {
        "read_private_labels": False,
        "write_ro_public": False,
    }
