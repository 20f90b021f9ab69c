"""A run's records out of the server: `aar export` (CSV/JSONL) and the MLflow logger (local sqlite store),
both against a real `aar serve`."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from server_helpers import N_TEST, ServerProc, write_task
from typer.testing import CliRunner

from aar.cli import app


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    """A server holding two agents' submissions, a result finding and a closed baseline verification."""
    root = tmp_path_factory.mktemp("tasks")
    write_task(root, "alpha", N_TEST, seed=3)
    srv = ServerProc(tmp_path_factory.mktemp("run"), root).start()
    admin = srv.client()
    for name, ones in (("rec-a", 10), ("rec-b", 25)):
        agent = srv.client(admin.create_agent(name)["token"])
        idea = tmp_path_factory.mktemp(name)
        (idea / "run.py").write_text(f"# {name}\ndef main(ctx):\n    pass\n")
        snap = agent.upload_snapshot(idea)
        sub = agent.evaluate("alpha", [1] * ones + [0] * (N_TEST - ones), idea=f"idea-{name}")
        agent.post_finding(type="result", title=f"{name} result", body="b", task="alpha", snapshot_id=snap,
                           submission_id=sub["submission_id"], metrics={"seed": 0})
    subject = {"baseline": "weak", "task": "alpha"}
    admin.post_recheck(subject, "heldout", "alpha", "heldout", seed=0, predictions=[1] * N_TEST)
    admin.close_verification(subject)
    yield srv
    srv.stop()


def test_export_writes_the_admin_rows(records: ServerProc, tmp_path: Path) -> None:
    admin = records.client()
    out = tmp_path / "csv"
    res = CliRunner().invoke(app, ["export", str(records.run_dir), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["findings.csv", "rechecks.csv", "submissions.csv",
                                                     "verifications.csv"]
    subs = list(csv.DictReader((out / "submissions.csv").open()))
    assert [int(r["submission_id"]) for r in subs] == [s["submission_id"] for s in admin.submissions()]
    assert all(r["private_accuracy"] != "" for r in subs)  # the admin's rows: private figures included
    verifs = list(csv.DictReader((out / "verifications.csv").open()))
    assert len(verifs) == 1 and json.loads(verifs[0]["subject"]) == {"baseline": "weak", "task": "alpha"}
    assert json.loads(verifs[0]["runs"])[0]["kind"] == "heldout"
    res = CliRunner().invoke(app, ["export", str(records.run_dir), "--format", "jsonl", "--out",
                                   str(tmp_path / "j")])
    assert res.exit_code == 0, res.output
    findings = [json.loads(x) for x in (tmp_path / "j" / "findings.jsonl").read_text().splitlines()]
    assert [f["title"] for f in findings] == ["rec-a result", "rec-b result"]


def test_export_refuses_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    res = CliRunner().invoke(app, ["export", str(tmp_path)])
    assert res.exit_code == 2
    want = f"aar export: {tmp_path} is not a run directory (no run.toml or aar.db)"
    assert res.output.strip().splitlines() == [want]
    assert not (tmp_path / "export").exists()


def test_mlflow_logger_logs_submissions_and_verifications_once(records: ServerProc, tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    from aar.supervisor.config import MlflowConfig
    from aar.supervisor.mlflow_log import MlflowLogger

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    cfg = MlflowConfig(tracking_uri=uri, experiment="aar-test", run_name="r1")
    admin = records.client()
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    logger = MlflowLogger(run_dir, cfg, {"id": "abc123", "task": "alpha", "config_hash": "h"})
    n_subs, n_verifs = len(admin.submissions()), len(admin.verifications())
    assert logger.sync(admin) == n_subs + n_verifs
    assert logger.sync(admin) == 0
    resumed = MlflowLogger(run_dir, cfg)  # `aar resume`: the same parent run, nothing logged twice
    assert resumed.sync(admin) == 0
    agent = records.client(admin.agent_token("rec-a")["token"])
    agent.evaluate("alpha", [0] * N_TEST, idea="later")
    assert resumed.sync(admin) == 1
    resumed.finish("done")

    ml = MlflowClient(tracking_uri=uri)
    exp = ml.get_experiment_by_name("aar-test")
    runs = {r.info.run_name: r for r in ml.search_runs([exp.experiment_id])}
    parent = runs["r1"]
    assert parent.info.status == "FINISHED" and parent.data.tags["aar.run_id"] == "abc123"
    assert parent.data.params["config_hash"] == "h"
    subs = admin.submissions()
    history = ml.get_metric_history(parent.info.run_id, "pgr")
    assert sorted(m.step for m in history) == [s["submission_id"] for s in subs]
    assert {m.step: m.value for m in history} == {s["submission_id"]: s["pgr"] for s in subs}
    assert len(ml.get_metric_history(parent.info.run_id, "pgr/rec-a")) == 2
    child = runs["baseline weak"]
    assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
    assert child.data.tags["status"] == "verified"
    verif = admin.verifications()[0]
    assert child.data.metrics["verified_pgr"] == pytest.approx(verif["verified_pgr"])
