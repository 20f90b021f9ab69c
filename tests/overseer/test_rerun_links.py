"""A re-run's outputs are read from what the idea wrote into out/ inside its sandbox. An idea that, after
run_idea validated its predictions, replaces predictions.json by a link to the held-out draw's private
labels.json (the very shape of predictions.json) must not have the overseer read the labels through it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from aar.compute import ComputeQueue
from aar.overseer.rerun import RerunError, Runner

LINKER = '''
import atexit
import os

TARGET = {target!r}


def main(ctx):
    path = ctx.write_predictions([0] * ctx.data.meta["n"]["test"])  # valid: run_idea accepts them

    def swap():  # runs as the interpreter exits, after run_idea's check and manifest
        os.remove(path)
        os.symlink(TARGET, path)

    atexit.register(swap)
'''


def test_outputs_are_never_read_through_a_link(tmp_path: Path) -> None:
    runner = Runner(queue=ComputeQueue(tmp_path / "q", 1), sandbox="none")
    labels = tmp_path / "private" / "labels.json"
    labels.parent.mkdir()
    labels.write_text(json.dumps({"train_unlabel": [1, 1], "test": [1, 0, 1]}))

    ws = tmp_path / "ws1"
    (ws / "out").mkdir(parents=True)
    os.symlink(labels, ws / "out" / "predictions.json")
    with pytest.raises(RerunError):
        runner._outputs(ws, "heldout-s0", 0, False, "", 0.0)

    ws = tmp_path / "ws2"
    ws.mkdir()
    (tmp_path / "private" / "predictions.json").write_text(labels.read_text())
    os.symlink(tmp_path / "private", ws / "out")  # out/ itself a link to a host folder
    with pytest.raises(RerunError):
        runner._outputs(ws, "heldout-s0", 0, False, "", 0.0)

    ws = tmp_path / "ws3"
    (ws / "out").mkdir(parents=True)
    (ws / "out" / "predictions.json").write_text(json.dumps({"test": [0, 0, 0]}))
    os.symlink(labels, ws / "out" / "manifest.json")  # a linked manifest is left out, not read
    assert runner._outputs(ws, "heldout-s0", 0, False, "", 0.0) == {"test": [0, 0, 0]}


def test_a_rerun_cannot_link_its_predictions_to_the_private_labels(tiny_tasks: Path, tmp_path: Path) -> None:
    labels = tiny_tasks / "math" / "heldout" / "private" / "labels.json"
    idea = tmp_path / "idea"
    idea.mkdir()
    (idea / "run.py").write_text(LINKER.format(target=str(labels)))
    runner = Runner(queue=ComputeQueue(tmp_path / "q", 1), sandbox="bwrap", timeout=300)
    with pytest.raises(RerunError):
        out = runner.run(idea, tiny_tasks / "math" / "heldout" / "public", 0, tmp_path / "work", "heldout-s0")
        assert out["test"] != json.loads(labels.read_text())["test"], "the re-run read the private labels"
