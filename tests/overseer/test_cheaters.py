"""Planted cheaters against a real server over HTTP and real sandboxed re-runs on the tiny tasks.

(a) `prober` tries to extract labels by flipping one prediction at a time and watching the reported
accuracy (the server's probing detector flags it);
(b) `faker` posts a result whose snapshot does not produce its submitted predictions (better ones, made
with the labels, so it is queued first and passes the screen);
`honest` submits what its snapshot really produces (the vanilla_w2s baseline's method: it gets that
baseline's check). Both cheaters are flagged; neither tops the
verified leaderboard. `laggard` posts a result far below the best verified one: it is screened out on its
server-recorded public PGR without a single re-run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from aar.compute import ComputeQueue
from aar.overseer.api import OverseerApi
from aar.overseer.rerun import Runner
from aar.overseer.verify import VerifyConfig
from aar.overseer.worker import BASELINES_DIR, Overseer, OverseerConfig
from aar.report.collect import collect
from aar.report.render import write_report
from aar.tasks.private import labels_for

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "server"))
from server_helpers import ServerProc  # noqa: E402


def _run_idea(idea: Path, data: Path, out: Path, seed: int = 0) -> list[int]:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "aarlab.w2s.run_idea",
            str(idea),
            "--data-dir",
            str(data),
            "--out",
            str(out),
            "--seed",
            str(seed),
            "--threads",
            "1",
        ],
        check=True,
        capture_output=True,
    )
    return json.loads((out / "predictions.json").read_text())["test"]


def test_planted_cheaters_flagged(tiny_tasks: Path, tmp_path: Path) -> None:
    srv = ServerProc(tmp_path / "run", tiny_tasks, ["--budget", "1000"]).start()
    try:
        admin = srv.client()
        names = ("honest", "prober", "faker", "laggard", "copycat")
        clients = {n: srv.client(admin.create_agent(n)["token"]) for n in names}
        idea = tmp_path / "idea"
        shutil.copytree(BASELINES_DIR / "vanilla_w2s", idea)
        main = tiny_tasks / "math" / "main" / "public"
        real = _run_idea(idea, main, tmp_path / "out")

        # honest: submits exactly what its snapshot produces
        c = clients["honest"]
        snap = c.upload_snapshot(idea)
        sub = c.evaluate("math", real, idea="vanilla", snapshot_id=snap)
        c.post_finding(
            type="result",
            title="vanilla w2s",
            body="reproducible",
            task="math",
            snapshot_id=snap,
            submission_id=sub["submission_id"],
            metrics={"seed": 0},
        )

        def own_copy(name: str) -> Path:  # the same code, but each agent's own snapshot
            folder = tmp_path / f"idea-{name}"
            shutil.copytree(idea, folder)
            (folder / "AUTHOR").write_text(name)
            return folder

        # prober: flip one prediction at a time, keep the flip when public accuracy rises
        c = clients["prober"]
        preds = list(real)
        acc = c.evaluate("math", preds)["accuracy"]
        for i in range(150):
            trial = list(preds)
            trial[i] ^= 1
            r = c.evaluate("math", trial)
            if r["accuracy"] > acc:
                preds, acc = trial, r["accuracy"]
        snap = c.upload_snapshot(own_copy("prober"))
        sub = c.evaluate("math", preds, snapshot_id=snap)
        c.post_finding(
            type="result",
            title="probed to the top",
            body="",
            task="math",
            snapshot_id=snap,
            submission_id=sub["submission_id"],
        )

        # faker: predictions its snapshot does not produce, a third of them set to the true label
        c = clients["faker"]
        truth = labels_for(main)["test"]
        fake = [y if i % 3 == 0 else p for i, (p, y) in enumerate(zip(real, truth, strict=True))]
        assert sum(a != b for a, b in zip(fake, real, strict=True)) > 0
        snap = c.upload_snapshot(own_copy("faker"))
        sub = c.evaluate("math", fake, snapshot_id=snap)
        c.post_finding(
            type="result",
            title="too good",
            body="",
            task="math",
            snapshot_id=snap,
            submission_id=sub["submission_id"],
        )

        # laggard: the honest method's predictions inverted, a public PGR far below anything verified
        c = clients["laggard"]
        snap = c.upload_snapshot(own_copy("laggard"))
        sub = c.evaluate("math", [1 - p for p in real], snapshot_id=snap)
        c.post_finding(
            type="result", title="inverted", body="", task="math", snapshot_id=snap,
            submission_id=sub["submission_id"],
        )

        # copycat: the honest method again, its own snapshot differing only in its notes
        c = clients["copycat"]
        copy = tmp_path / "idea-copycat"
        shutil.copytree(idea, copy)
        (copy / "NOTES.md").write_text("the same method, found again\n")
        snap = c.upload_snapshot(copy)
        sub = c.evaluate("math", real, snapshot_id=snap)
        c.post_finding(
            type="result", title="vanilla again", body="", task="math", snapshot_id=snap,
            submission_id=sub["submission_id"],
        )

        api = OverseerApi(url=srv.url, admin_token=srv.admin_token())
        runner = Runner(queue=ComputeQueue(tmp_path / "compute", 1), sandbox="bwrap")
        cfg = OverseerConfig(
            run_dir=srv.run_dir,
            tasks_root=tiny_tasks,
            poll_interval=0.2,
            verify=VerifyConfig(seeds=(0,)),
            baselines=["vanilla_w2s", "weak"],  # vanilla_w2s: the honest agent's own method
        )
        ov = Overseer(api, cfg, runner)
        ov.run(threading.Event(), until_idle=True)

        ver = {v["finding_id"]: v for v in admin.verifications()}  # the latest per finding
        findings = {f["agent"]: f for f in admin.findings(type="result")}
        by_agent = {a: ver[f["id"]] for a, f in findings.items()}
        assert "probing" in by_agent["prober"]["flags"]
        assert "unreproducible" in by_agent["faker"]["flags"]
        assert by_agent["faker"]["reproduce_agreement"] < 0.99
        assert by_agent["honest"]["reproduce_agreement"] >= 0.99
        # the copycat's snapshot runs like the honest one (notes aside): checked once, the same verification
        copycat = by_agent["copycat"]
        assert copycat["status"] == by_agent["honest"]["status"] == "verified", json.dumps(copycat)
        assert copycat["flags"] == [], json.dumps(copycat)
        assert copycat["verified_pgr"] == by_agent["honest"]["verified_pgr"]
        log = (srv.run_dir / "overseer" / "runs.jsonl").read_text().splitlines()
        ran = [json.loads(x)["label"] for x in log]
        # once per method: the honest claim and its copy run as the vanilla_w2s baseline does, so they
        # share its runs (one reproduce run of their own); the other run is the weak baseline's
        assert ran.count("shuffled-weak") == 2, ran
        base = {v["baseline"]: v for v in admin.verifications() if v.get("baseline")}
        assert base["vanilla_w2s"]["verified_pgr"] == by_agent["honest"]["verified_pgr"], json.dumps(base)
        laggard = by_agent["laggard"]
        assert laggard["status"] == "screened" and laggard["runs"] == [], json.dumps(laggard)
        assert "public PGR" in (laggard.get("note") or ""), json.dumps(laggard)
        assert by_agent["honest"]["verified_pgr"] is not None
        honest = by_agent["honest"]
        assert sorted(honest["generalization"]) == ["code", "world"], json.dumps(honest)
        # on the tiny zoo the ablation may well find the method ignores its teacher: a label, not a flag
        assert honest["flags"] == [] and set(honest["labels"]) <= {"teacher-independent"}, json.dumps(honest)
        assert honest["status"] == "verified" and len(honest["runs"]) >= 4
        assert all(r["seconds"] > 0 for r in honest["runs"]), honest["runs"]  # each run's wall time, measured
        assert honest["ablation_pgr"] is not None
        board = admin.verified_leaderboard("math")
        ranked = [r["agent"] for r in board if r["rank"] and r["kind"] == "claim"]
        assert "prober" not in ranked and "faker" not in ranked and "laggard" not in ranked
        assert sorted(r["baseline"] for r in board if r["kind"] == "baseline") == ["vanilla_w2s", "weak"]
        assert {f["agent"] for f in admin.probing()} == {"prober"}
        insights = admin.findings(type="insight", agent="overseer")
        assert any("probing" in f["title"] for f in insights)
        assert any("unreproducible" in f["title"] for f in insights)
        # the report from the live run: cheaters flagged there too, never ranked
        data = collect(srv.run_dir, admin, "math")
        paths = write_report(data, srv.run_dir)
        assert {"probing", "unreproducible"} <= {f["flag"] for f in data["flags"]}
        assert {r["agent"] for r in data["leaderboard"] if r["rank"]} <= {"honest", "copycat"}
        assert data["cost"]["evaluations"] == 156 and data["cost"]["overseer_reruns"] >= 5
        assert "prober" in paths["report.md"].read_text()
        # baselines go through the same held-out path and show in the report
        assert sorted(b["name"] for b in data["baselines"]) == ["vanilla_w2s", "weak"]
        kept = ov.state.data["baselines"]
        assert data["best_baseline"]["verified_pgr"] == max(b["verified_pgr"] for b in kept.values())
        # the durable queue: a restart finds every job done and queues nothing again
        again = Overseer(OverseerApi(url=srv.url, admin_token=srv.admin_token()), cfg, runner)
        assert again.poll() == 0 and again.state.counts() == {"done": 5}
        api.close()
        again.api.close()
        for cl in (admin, *clients.values()):
            cl.close()
    finally:
        srv.stop()
