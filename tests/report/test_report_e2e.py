"""The report of a real short run: a server over HTTP on the tiny tasks, two researchers posting the same
method (different snapshots: one adds notes and renames it), an insight with its paired-test metrics, and
the overseer's real sandboxed re-checks (the baselines' own checks are left out to keep it short: their
rendering is covered by test_render.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from aar.compute import ComputeQueue
from aar.overseer.api import OverseerApi
from aar.overseer.rerun import Runner
from aar.overseer.verify import VerifyConfig
from aar.overseer.worker import BASELINES_DIR, Overseer, OverseerConfig
from aar.report.collect import collect
from aar.report.render import write_report

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "server"))
from server_helpers import ServerProc  # noqa: E402


def _predict(idea: Path, data: Path, out: Path) -> list[int]:
    cmd = [sys.executable, "-m", "aarlab.w2s.run_idea", str(idea), "--data-dir", str(data), "--out", str(out)]
    subprocess.run([*cmd, "--seed", "0", "--threads", "1"], check=True, capture_output=True)
    return json.loads((out / "predictions.json").read_text())["test"]


def _idea(tmp: Path, name: str, notes: str | None = None) -> Path:
    folder = tmp / name
    shutil.copytree(BASELINES_DIR / "aux_confidence", folder)
    cfg = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**cfg, "name": name, "aux_alpha": 0.8}, indent=1))
    if notes:
        (folder / "NOTES.md").write_text(notes)
    return folder


@pytest.mark.timeout(400)
def test_report_of_a_real_run_names_the_winner_with_its_evidence(tiny_tasks: Path, tmp_path: Path) -> None:
    srv = ServerProc(tmp_path / "run", tiny_tasks, ["--budget", "20"]).start()
    try:
        admin = srv.client()
        alice, bob = (srv.client(admin.create_agent(n)["token"]) for n in ("alice", "bob"))
        a_idea, b_idea = _idea(tmp_path, "alice-aux"), _idea(tmp_path, "bob-aux", "found it myself")
        preds = _predict(a_idea, tiny_tasks / "math" / "main" / "public", tmp_path / "out")
        for client, idea, title in ((alice, a_idea, "aux confidence at 0.8"), (bob, b_idea, "mine too")):
            snap = client.upload_snapshot(idea)
            sub = client.evaluate("math", preds, idea=idea.name, snapshot_id=snap)
            client.post_finding(
                type="result",
                title=title,
                body="",
                task="math",
                snapshot_id=snap,
                submission_id=sub["submission_id"],
                metrics={"seed": 0},
            )
        alice.post_finding(
            type="insight",
            title="aux_alpha 0.5 → 0.8 helps",
            body="paired test",
            task="math",
            metrics={"effect": 0.04, "p_value": 0.02, "n": 3.0, "discordant": 9.0},
        )

        api = OverseerApi(url=srv.url, admin_token=srv.admin_token())
        cfg = OverseerConfig(
            run_dir=srv.run_dir,
            tasks_root=tiny_tasks,
            poll_interval=0.2,
            verify=VerifyConfig(seeds=(0,)),
            baselines=[],
        )
        runner = Runner(queue=ComputeQueue(tmp_path / "compute", 1), sandbox="bwrap")
        Overseer(api, cfg, runner).run(threading.Event(), until_idle=True)

        data = collect(srv.run_dir, admin, "math")
        paths = write_report(data, srv.run_dir)
        # one method, credited to alice (she posted it first), bob listed
        assert len(data["methods"]) == 1, data["methods"]
        top = data["methods"][0]
        assert top["agent"] == "alice" and [a["agent"] for a in top["also_posted_by"]] == ["bob"]
        assert top["status"] == "verified", top
        win = data["winner"]
        assert win["closest_baseline"] == "aux_confidence"
        assert win["comparison"]["changes"] == [{"field": "aux_alpha", "old": 0.5, "new": 0.8}]
        ev = win["evidence"]
        assert [r["seed"] for r in ev["heldout"]] == [0] and ev["heldout"][0]["pgr"] == win["verified_pgr"]
        assert len(ev["shuffled_weak"]) == 1 and len(ev["blank_strong"]) == 1
        assert sorted(ev["generalization_runs"]) == ["code", "world"]
        assert ev["cost"]["timed_runs"] == ev["cost"]["runs"] >= 6 and ev["cost"]["wall_seconds"] > 0
        assert [r["title"] for r in data["insights"]] == ["aux_alpha 0.5 → 0.8 helps"]
        md = paths["report.md"].read_text()
        assert "**Winner: aux confidence at 0.8** by `alice`" in md and '+ "aux_alpha": 0.8,' in md
        assert "also posted by bob" in md
        html = paths["report.html"].read_text()
        assert '<section id="evidence">' in html and "aux confidence at 0.8" in html
        assert paths["generalization.svg"].read_text().startswith("<svg")
        api.close()
        for c in (admin, alice, bob):
            c.close()
    finally:
        srv.stop()
