"""What a sandboxed command writes into its workspace travels between nodes and the head as files only: a
link it makes there (to the task secret, private labels, another process's environment) is never
followed by the trusted code that packs the folder (an agent's folder pulled to the head, a re-run's
out/ returned by a Ray task), so it carries no host file anywhere."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aar.cluster.agent_host import AgentHost, restore
from aar.cluster.bundles import pack_dir
from aar.cluster.experiment import untar


def _host_files(root: Path) -> tuple[Path, Path]:
    """A host file and folder no sandbox may read (stand-ins for the secret and a private/ folder)."""
    secret = root / "host" / "secret"
    secret.parent.mkdir(parents=True)
    secret.write_text("the-task-secret")
    private = root / "host" / "private"
    private.mkdir()
    (private / "labels.json").write_text('{"test": [1, 0, 1]}')
    return secret, private


def _plant(workspace: Path, secret: Path, private: Path) -> None:
    """What a command inside the sandbox can do to its workspace: links with any target, a fifo."""
    workspace.mkdir(parents=True, exist_ok=True)
    (workspace / "notes.txt").write_text("mine")
    os.symlink(secret, workspace / "leak")
    os.symlink(private, workspace / "dir")
    (workspace / "out").mkdir()
    os.symlink(private / "labels.json", workspace / "out" / "predictions.json")
    os.mkfifo(workspace / "pipe")


def test_pack_dir_leaves_links_out(tmp_path: Path) -> None:
    secret, private = _host_files(tmp_path)
    folder = tmp_path / "agent"
    _plant(folder / "workspace", secret, private)
    (folder / "token").write_text("tok")
    files = untar(pack_dir(folder, skip=("token",)))
    assert set(files) == {"workspace/notes.txt"}
    packed = untar(pack_dir(folder)).values()
    assert b"the-task-secret" not in packed and b'{"test": [1, 0, 1]}' not in packed
    # a trusted model dir (hub snapshot files are links to blobs) is still packed through its links
    followed = untar(pack_dir(folder, skip=("token",), follow_symlinks=True))
    assert followed["workspace/leak"] == b"the-task-secret"


def test_a_workspace_link_is_not_pulled_to_the_head(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The node's copy of an agent's folder reaches the head through `snapshot` / `restore`: the head gets
    the agent's own files and logs, and no host file its sandbox linked to."""
    secret, private = _host_files(tmp_path)
    monkeypatch.setenv("AAR_CACHE", str(tmp_path / "node"))
    host = AgentHost("run-key", "alice")
    host.agent_dir.mkdir(parents=True)
    (host.agent_dir / "experiments.jsonl").write_text('{"label": "x"}\n')
    _plant(host.agent_dir / "workspace", secret, private)
    head = tmp_path / "head" / "agents" / "alice"
    head.mkdir(parents=True)
    (head / "placements.jsonl").write_text('{"node": "n1"}\n')
    restore(head, host.snapshot())
    got = sorted(str(p.relative_to(head)) for p in head.rglob("*"))
    assert got == ["experiments.jsonl", "placements.jsonl", "workspace", "workspace/notes.txt"]
