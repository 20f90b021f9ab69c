"""The idea runner: baselines end to end on the tiny zoo, and rejection of bad predictions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from aar.tasks.baseline_scores import idea_config, run_scored
from aarlab.w2s.baselines import BASELINES, baseline_dir
from aarlab.w2s.idea import IdeaError
from aarlab.w2s.run_idea import run_idea


def _data(tiny_tasks: Path, task: str = "math", draw: str = "main") -> Path:
    return tiny_tasks / task / draw / "public"


def _cli(idea: Path, data: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "aarlab.w2s.run_idea", str(idea), "--data-dir", str(data),
                           "--out", str(out), "--seed", "0", "--threads", "1", *extra],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("mode", ["probe", "finetune"])
@pytest.mark.parametrize("name", BASELINES)
def test_each_baseline_runs_end_to_end(tiny_tasks: Path, name: str, mode: str) -> None:
    data = _data(tiny_tasks)
    acc, seconds = run_scored(baseline_dir(name), data, 0, mode, idea_config(name, data))
    assert 0.0 <= acc <= 1.0 and seconds > 0


def test_runner_subprocess_writes_valid_predictions(tiny_tasks: Path, tmp_path: Path) -> None:
    data = _data(tiny_tasks, "code", "heldout")
    res = _cli(baseline_dir("vanilla_w2s"), data, tmp_path)
    assert res.returncode == 0, res.stderr
    preds = json.loads((tmp_path / "predictions.json").read_text())
    n = json.loads((data / "meta.json").read_text())["n"]
    assert len(preds["test"]) == n["test"] and set(preds["test"]) <= {0, 1}


def test_ceiling_refuses_without_trusted_labels(tiny_tasks: Path, tmp_path: Path) -> None:
    res = _cli(baseline_dir("strong_ceiling"), _data(tiny_tasks), tmp_path)
    assert res.returncode == 2
    assert "trusted" in res.stderr


def _idea(tmp_path: Path, body: str) -> Path:
    folder = tmp_path / "idea"
    folder.mkdir()
    (folder / "run.py").write_text(body)
    return folder


BAD = {
    "wrong_length": 'ctx.write_predictions([0, 1])',
    "non_binary": 'n = ctx.data.meta["n"]["test"]\n    ctx.write_predictions([2] * n)',
    "bools": 'import json\n    n = ctx.data.meta["n"]["test"]\n'
             '    (ctx.output_dir / "predictions.json").write_text(json.dumps({"test": [True] * n}))',
    "floats": 'import json\n    n = ctx.data.meta["n"]["test"]\n'
              '    (ctx.output_dir / "predictions.json").write_text(json.dumps({"test": [0.5] * n}))',
    "unknown_key": 'import json\n    n = ctx.data.meta["n"]["test"]\n'
                   '    (ctx.output_dir / "predictions.json")'
                   '.write_text(json.dumps({"test": [0] * n, "x": []}))',
    "no_file": 'pass',
    "bad_unlabel": 'n = ctx.data.meta["n"]["test"]\n    ctx.write_predictions([0] * n, [1, 0])',
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_runner_rejects_bad_predictions(tiny_tasks: Path, tmp_path: Path, case: str) -> None:
    idea = _idea(tmp_path, f"def main(ctx):\n    {BAD[case]}\n")
    with pytest.raises(IdeaError):
        run_idea(idea, _data(tiny_tasks), tmp_path / "out")


def test_runner_cli_exit_codes(tiny_tasks: Path, tmp_path: Path) -> None:
    bad = _idea(tmp_path, "def main(ctx):\n    ctx.write_predictions([0, 1])\n")
    res = _cli(bad, _data(tiny_tasks), tmp_path / "o1")
    assert res.returncode == 2 and "expected" in res.stderr
    (bad / "run.py").write_text("def main(ctx):\n    raise RuntimeError('boom')\n")
    res = _cli(bad, _data(tiny_tasks), tmp_path / "o2")
    assert res.returncode == 1 and "boom" in res.stderr
    good = tmp_path / "good"
    good.mkdir()
    (good / "run.py").write_text('def main(ctx):\n'
                                 '    ctx.write_predictions([1] * ctx.data.meta["n"]["test"])\n')
    res = _cli(good, _data(tiny_tasks), tmp_path / "o3", "--mode", "finetune")
    assert res.returncode == 0, res.stderr


def test_context_fields(tiny_tasks: Path, tmp_path: Path) -> None:
    idea = _idea(tmp_path, "import json\n\ndef main(ctx):\n"
                 "    (ctx.output_dir / 'ctx.json').write_text(json.dumps("
                 "{'mode': ctx.mode, 'seed': ctx.seed,"
                 " 'cfg': ctx.config, 'strong': ctx.strong_model}))\n"
                 "    ctx.write_predictions([0] * ctx.data.meta['n']['test'])\n")
    (idea / "config.json").write_text('{"mode": "finetune", "k": 3}')
    run_idea(idea, _data(tiny_tasks), tmp_path / "out", seed=5)
    got = json.loads((tmp_path / "out" / "ctx.json").read_text())
    assert got["mode"] == "finetune" and got["seed"] == 5 and got["cfg"]["k"] == 3
    assert (Path(got["strong"]) / "aar_zoo.json").is_file()
    run_idea(idea, _data(tiny_tasks), tmp_path / "out2", mode="probe")
    assert json.loads((tmp_path / "out2" / "ctx.json").read_text())["mode"] == "probe"
