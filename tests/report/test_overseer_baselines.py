"""The baselines a demo's overseer verifies: every baseline idea that can run in a sandbox."""

from __future__ import annotations

from aar.report.cli import all_baselines, overseer_process
from aarlab.w2s.baselines import BASELINES_DIR


def test_every_baseline_idea_but_the_ceiling_is_verified() -> None:
    names = all_baselines()
    # strong_ceiling reads the true labels: as a sandboxed idea it can only fail (its figure is the build's)
    assert "strong_ceiling" not in names and (BASELINES_DIR / "strong_ceiling" / "run.py").is_file()
    assert {"vanilla_w2s", "aux_confidence", "icm", "ccs"} <= set(names)
    cmd = overseer_process("bwrap", 2, 1, names).command
    assert cmd[cmd.index("--baselines") + 1] == ",".join(names)
