"""The published setting end to end, on tiny local HF models: a synthetic dataset in the release's exact
layout (`labeled_data/<dataset>/{train_label,train_unlabel,test}.jsonl`, math-shaped rows with `subset` and
`difficulty`) -> `aar w2s import-aar` (held-out draw carved, weak artifacts and baselines) ->
`aar w2s baselines` -> `aar run` with a searcher and the overseer (verifications on the imported held-out
draw, MLflow logging into a local sqlite store) -> `aar export` -> `aar resume` (the manifest continued, the
report written with the per-subset split).
Every step is the real command line in its own process."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from tiny_hf import RELEASE_SUBSETS as SUBSETS  # noqa: E402
from tiny_hf import make_tiny_model, write_release  # noqa: E402

AAR = str(Path(sys.executable).parent / "aar")
N = {"train_label": 60, "train_unlabel": 200, "test": 200}


def aar(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    res = subprocess.run([AAR, *args], capture_output=True, text=True, env=env, timeout=timeout)
    assert res.returncode == 0, f"aar {' '.join(args)} failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_published_layout_import_baselines_run_verify_report(tmp_path: Path) -> None:
    import torch

    torch.set_num_threads(1)
    env = {**os.environ, "AAR_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1",
           "PYTHONUNBUFFERED": "1"}
    weak = make_tiny_model(tmp_path / "models" / "weak", seed=1, hidden=8, layers=1)
    strong = make_tiny_model(tmp_path / "models" / "strong", seed=2)
    release = tmp_path / "release" / "labeled_data"
    write_release(release, N)
    tasks = tmp_path / "tasks"

    # import: carve the held-out draw, weak artifacts and fixed baselines (probe: the tiny strong model
    # is random-init, its probe ceiling is what beats the weak supervisor)
    aar("w2s", "import-aar", str(release), "--out", str(tasks), "--weak", str(weak), "--strong", str(strong),
        "--seeds", "0", "--size", "tiny", "--mode", "probe", env=env)
    meta = json.loads((tasks / "toy" / "main" / "public" / "meta.json").read_text())
    held = json.loads((tasks / "toy" / "heldout" / "public" / "meta.json").read_text())
    assert meta["n"]["test"] + held["n"]["test"] == N["test"] and held["n"]["test"] == N["test"] // 4
    assert held["baselines"] == meta["baselines"] and meta["reference_mode"] == "probe"
    base = meta["baselines"]["probe"]
    assert base["strong_acc"] - base["weak_acc"] > 0.1  # the margin check passed with room
    for draw in ("main", "heldout"):  # subset/difficulty private; both subsets in both draws
        pub = tasks / "toy" / draw / "public"
        public = "".join(p.read_text() for p in pub.rglob("*") if p.is_file())
        assert "_distribution" not in public and "difficulty" not in public
        items = json.loads((tasks / "toy" / draw / "private" / "item_meta.json").read_text())
        assert {m["subset"] for m in items["test"]} == set(SUBSETS)

    # the baselines CLI on the imported task
    rows = json.loads(aar("w2s", "baselines", "--task", "toy", "--tasks-dir", str(tasks), "--idea", "weak",
                          "--idea", "vanilla_w2s", "--json", "--threads", "1", env=env).stdout)
    assert [r["idea"] for r in rows] == ["weak", "vanilla_w2s"]
    assert rows[0]["transfer_acc"] == pytest.approx(base["weak_acc"], abs=0.02) and rows[0]["pgr"] is not None

    # a short searcher team with the overseer (held-out verification) and MLflow logging
    run_dir = tmp_path / "run"
    store = tmp_path / "mlflow.db"
    conf = tmp_path / "run.toml"
    conf.write_text(
        f'run_dir = "{run_dir}"\ntask = "toy"\nsize = "tiny"\ntasks_dir = "{tasks}"\nsandbox = "bwrap"\n'
        "compute_slots = 2\nthreads_per_job = 1\nwall_time = 240\nverify_grace = 240\nstop_grace = 5\n"
        '[agents]\ncount = 1\nnames = ["ada"]\ndirections = ["confidence-filtering"]\n'
        'searcher = { max_ideas = 2, modes = ["probe"] }\n'
        '[[extra_processes]]\nname = "overseer"\n'
        'command = ["{python}", "-m", "aar.overseer", "--run-dir", "{run_dir}", "--tasks-dir", "{tasks_dir}",'
        ' "--sandbox", "bwrap", "--slots", "2", "--threads", "1", "--seeds", "0", "--poll", "0.5",'
        ' "--baselines", "vanilla_w2s", "--baseline-task", "{task}"]\n'
        f'[mlflow]\ntracking_uri = "sqlite:///{store}"\nexperiment = "aar-ci"\ninterval = 2\n'
    )
    aar("run", "--config", str(conf), "--no-live", env=env, timeout=560)

    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["status"] == "done" and manifest["ended_at"] and manifest["seeds"]["task"] == [0]
    assert len(manifest["sessions"]) == 1 and len(manifest["config_hash"]) == 64

    # verifications ran on the imported held-out draw, per subset, the skipped solver check said why
    export = tmp_path / "export"
    aar("export", str(run_dir), "--format", "jsonl", "--out", str(export), env=env)
    verifs = [json.loads(x) for x in (export / "verifications.jsonl").read_text().splitlines()]
    rechecks = [json.loads(x) for x in (export / "rechecks.jsonl").read_text().splitlines()]
    subs = [json.loads(x) for x in (export / "submissions.jsonl").read_text().splitlines()]
    assert len(subs) >= 2 and {v.get("baseline") for v in verifs} >= {"vanilla_w2s", None}
    held_runs = [r for r in rechecks if r["kind"] == "heldout"]
    assert held_runs and all(r["draw"] == "heldout" and r["n"] == held["n"]["test"] for r in held_runs)
    assert {r["kind"] for r in rechecks} >= {"reproduce", "heldout", "shuffled_weak"}
    claim = next(v for v in verifs if v["finding_id"] is not None and v["status"] != "screened")
    assert claim["status"] == "verified", claim
    assert claim["reproduce_agreement"] == pytest.approx(1.0)
    assert set(claim["details"]["subsets"]) == set(SUBSETS)
    assert sum(s["n"] for s in claim["details"]["subsets"].values()) == held["n"]["test"]
    assert "blank_strong not run" in (claim["note"] or "")

    # `aar resume` (nothing left to do: the searcher has had its ideas) continues the manifest and writes the
    # report, which splits test metrics by subset; leaderboard.json has a schema version
    aar("resume", str(run_dir), "--verify-minutes", "1", env=env, timeout=300)
    resumed = json.loads((run_dir / "manifest.json").read_text())
    assert resumed["id"] == manifest["id"] and resumed["status"] == "done"
    assert [x["status"] for x in resumed["sessions"]] == ["done", "done"]
    report = (run_dir / "report.md").read_text()
    section = report[report.index("## Test metrics by subset"):]
    assert all(s in section.splitlines()[4] for s in SUBSETS)  # header row names both subsets
    assert "strong ceiling (main test)" in section and "vanilla_w2s" in section
    assert 'id="subsets"' in (run_dir / "report.html").read_text()
    assert json.loads((run_dir / "leaderboard.json").read_text())["schema_version"] == 1

    # MLflow (local sqlite store): the run, one pgr step per submission, one nested run per subject
    db = sqlite3.connect(store)
    runs = dict(db.execute("SELECT run_uuid, name FROM runs").fetchall())
    parent = next(r for r, name in runs.items() if name == "run")
    steps = db.execute("SELECT COUNT(*) FROM metrics WHERE run_uuid = ? AND key = 'pgr'",
                       (parent,)).fetchone()
    children = db.execute("SELECT COUNT(*) FROM tags WHERE key = 'mlflow.parentRunId' AND value = ?",
                          (parent,)).fetchone()
    status = db.execute("SELECT status FROM runs WHERE run_uuid = ?", (parent,)).fetchone()
    db.close()
    assert steps[0] == len(subs) and children[0] == len({(v["finding_id"], v["baseline"]) for v in verifs})
    assert status[0] == "FINISHED"
