"""`aar sandbox check` runs the escape suite against the sandboxes agents and the overseer use: every attempt
is blocked, with the GPU profile too; the judges are not vacuous (without a sandbox, or with the soft
quota's bind-mounted workspace, they see the escape); an installed (non-editable) `aar` stays hidden."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aar.cli import app

REPO = Path(__file__).resolve().parents[2]
NEW = ("setuid_plant", "workspace_private", "socket_tamper", "shm_flood", "writable_mounts",
       "token_in_cmdline", "read_labels_anywhere", "regenerate_labels", "write_other_workspace",
       "tell_recheck")


def _check(*args: str) -> tuple[int, dict]:
    res = CliRunner().invoke(app, ["sandbox", "check", "--json", *args])
    assert res.stdout.startswith("{"), f"{res.output}\n{res.exception!r}"
    return res.exit_code, json.loads(res.stdout)


def test_escape_suite_all_blocked() -> None:
    saved = {k: os.environ.get(k) for k in ("ANTHROPIC_API_KEY", "AAR_TASK_SECRET", "AAR_CACHE")}
    code, out = _check()
    escaped = [a for a in out["attempts"] if not a["blocked"]]
    assert escaped == [], escaped
    assert code == 0
    names = {a["name"] for a in out["attempts"]}
    assert len(names) >= 45
    for must in ("read_private_labels", "proc_root_host_pid", "read_run_db", "tcp_localhost",
                 "outside_network", "write_usr", "parent_env_secret", "fork_bomb", "memory_bomb", "disk_fill",
                 "sleep_past_limit", "symlink_root_out", *NEW):
        assert must in names
    details = {a["name"]: a["detail"] for a in out["attempts"]}
    assert "4 re-runs" in details["tell_recheck"]
    assert {k: os.environ.get(k) for k in saved} == saved  # the decoy environment was taken back


def test_escape_suite_with_the_gpu_profile(tmp_path: Path) -> None:
    """Stand-in device nodes (links to /dev/null: a character device) are bound as the GPU nodes; this
    checks the GPU sandbox's layout, not a real driver's ioctl surface (no GPU on this machine)."""
    for name in ("nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm"):
        (tmp_path / name).symlink_to("/dev/null")
    code, out = _check("--gpu", "--gpu-dev-root", str(tmp_path))
    assert out["gpu"] is True
    assert [a for a in out["attempts"] if not a["blocked"]] == []
    assert code == 0


def test_the_judges_see_escapes_without_a_sandbox() -> None:
    code, out = _check("--kind", "none", "--unsafe-no-sandbox", "--only", "read_private_labels", "--only",
                       "write_ro_data", "--only", "read_labels_anywhere", "--only", "write_other_workspace",
                       "--only", "tell_recheck")
    assert code == 1
    assert {a["name"]: a["blocked"] for a in out["attempts"]} == {
        "read_private_labels": False, "write_ro_data": False, "read_labels_anywhere": False,
        "write_other_workspace": False, "tell_recheck": False}


def test_tell_recheck_sees_a_bind_mounted_workspace() -> None:
    """With the soft quota the workspace is a bind mount, and mountinfo shows its host path (an agent's
    folder vs an overseer work folder): the comparison reports it."""
    code, out = _check("--soft-quota", "--only", "tell_recheck")
    (attempt,) = out["attempts"]
    assert code == 1 and not attempt["blocked"]
    assert "mountinfo" in attempt["detail"] and "/agents/gamma/workspace" in attempt["detail"]


@pytest.fixture(scope="module")
def installed_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with aar installed non-editable (aar next to aarlab in site-packages); deps from ours."""
    tmp = tmp_path_factory.mktemp("installed")
    src, venv = tmp / "src", tmp / "venv"
    src.mkdir()
    for item in ("aar", "aarlab", "pyproject.toml", "README.md"):
        (shutil.copytree if (REPO / item).is_dir() else shutil.copy)(REPO / item, src / item)
    base = Path(sys.base_prefix) / "bin" / "python3"
    subprocess.run([base, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    # --target: pip must not touch our own environment (with --prefix it uninstalls our editable aar)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(site), str(src)], check=True, capture_output=True)
    ours = next(p for p in map(Path, sys.path) if p.name == "site-packages" and (p / "typer").is_dir())
    (site / "deps.pth").write_text(f"{ours}\n")  # plain path: our editable finder is not loaded there
    return venv


def _run_installed(venv: Path, patch: str = "") -> dict:
    code = (f"import json, aar, aar.sandbox.bwrap as b{patch}\n"
            "assert '/site-packages/aar/' in aar.__file__, aar.__file__\n"
            "from aar.sandbox.escape import run_escape_suite\n"
            "print(json.dumps([r.to_dict() for r in run_escape_suite('bwrap', only=['regenerate_labels'])]))")
    cp = subprocess.run([venv / "bin" / "python", "-c", code], capture_output=True, text=True, timeout=300,
                        cwd=venv)
    assert cp.returncode == 0, cp.stderr
    (res,) = json.loads(cp.stdout.splitlines()[-1])
    return res


def test_an_installed_aar_is_hidden(installed_venv: Path) -> None:
    res = _run_installed(installed_venv)
    assert res["blocked"], res["detail"]


def test_an_installed_aar_would_be_found_without_hiding(installed_venv: Path) -> None:
    """The control: with the hiding switched off the same attempt imports the installed task code."""
    res = _run_installed(installed_venv, "; b.hidden_paths = lambda: []")
    assert not res["blocked"] and "imported aar" in res["detail"], res["detail"]
