"""`aar w2s baselines` and `aar zoo build` through the registered CLI."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from aar.cli import app


def test_baselines_json(tiny_tasks: Path) -> None:
    res = CliRunner().invoke(app, ["w2s", "baselines", "--task", "world", "--size", "tiny", "--seeds", "2",
                                   "--json", "--idea", "weak", "--idea", "strong_ceiling", "--threads", "1"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.output)
    assert [r["idea"] for r in rows] == ["weak", "strong_ceiling"]
    for r in rows:
        assert {"idea", "weak_acc", "strong_acc", "transfer_acc", "pgr", "pgr_se", "seconds"} <= set(r)
    meta = json.loads((tiny_tasks / "world" / "main" / "public" / "meta.json").read_text())
    assert rows[1]["transfer_acc"] == meta["baselines"]["probe"]["strong_acc"]
    assert rows[0]["transfer_acc"] == meta["baselines"]["probe"]["weak_acc"]


def test_baselines_table_and_errors(tiny_tasks: Path) -> None:
    res = CliRunner().invoke(app, ["w2s", "baselines", "--task", "code", "--size", "tiny", "--seeds", "1",
                                   "--mode", "finetune", "--idea", "vanilla_w2s", "--threads", "1"])
    assert res.exit_code == 0, res.output
    assert "vanilla_w2s" in res.output
    res = CliRunner().invoke(app, ["w2s", "baselines", "--task", "nope", "--size", "tiny"])
    assert res.exit_code != 0


def test_zoo_build_cached(tiny_tasks: Path) -> None:
    res = CliRunner().invoke(app, ["zoo", "build", "--size", "tiny", "--task", "math", "--jobs", "1"])
    assert res.exit_code == 0, res.output
    assert "zoo ready" in res.output
