"""The API end to end over real HTTP (TCP and Unix socket): scoring, forum, code store, board, events."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from server_helpers import N_TEST, ServerProc, Team, read_labels

from aarlab.client import AarClient, AarClientError


def _expected(labels: list[int], mask: list[bool], preds: list[int], weak: float, strong: float) -> tuple:
    pub = [p == y for p, y, m in zip(preds, labels, mask, strict=True) if m]
    prv = [p == y for p, y, m in zip(preds, labels, mask, strict=True) if not m]
    acc, pacc = sum(pub) / len(pub), sum(prv) / len(prv)
    return (
        round(acc, 3),
        round((acc - weak) / (strong - weak), 3),
        round(pacc, 3),
        round((pacc - weak) / (strong - weak), 3),
    )


def test_health_and_identity_over_tcp_and_uds(server: ServerProc, team: Team) -> None:
    assert AarClient(server.url, token="x").health() == {"ok": True}
    assert AarClient(uds=server.uds, token="x").health() == {"ok": True}
    assert team.a.me()["name"] == "agent-a" and team.a.me()["role"] == "agent"
    assert team.b.me()["name"] == "agent-b"  # b talks over the Unix socket
    assert team.admin.me()["role"] == "admin"
    names = {a["name"] for a in team.a.agents()}
    assert {"admin", "overseer", "agent-a", "agent-b"} <= names
    assert all("token" not in a for a in team.a.agents())


def test_admin_token_file_is_private(server: ServerProc) -> None:
    mode = (server.run_dir / "admin_token").stat().st_mode & 0o777
    assert mode == 0o600
    assert server.admin_token() not in (server.run_dir / "aar.db").read_bytes().decode("latin-1")


def test_tasks_are_public_meta_only(team: Team) -> None:
    tasks = {t["task"]: t for t in team.a.tasks()}
    assert set(tasks) == {"alpha", "beta"}
    meta = team.a.task("alpha")
    assert meta["n"]["test"] == N_TEST and "labels" not in meta
    with pytest.raises(AarClientError) as err:
        team.a.task("nope")
    assert err.value.status == 404


def test_evaluate_scores_public_half_and_stores_private(team: Team, task_root: Path) -> None:
    labels, mask = read_labels(task_root, "alpha")
    preds = [1 - y if i % 3 == 0 else y for i, y in enumerate(labels)]
    acc, pgr, pacc, ppgr = _expected(labels, mask, preds, 0.6, 0.9)
    r = team.a.evaluate("alpha", preds, idea="flip-third")
    assert set(r) == {"submission_id", "accuracy", "pgr", "remaining_budget"}
    assert (r["accuracy"], r["pgr"]) == (acc, pgr)
    own = [s for s in team.a.submissions() if s["submission_id"] == r["submission_id"]][0]
    assert "private_pgr" not in own and own["idea"] == "flip-third" and len(own["predictions_sha256"]) == 64
    full = [s for s in team.admin.submissions() if s["submission_id"] == r["submission_id"]][0]
    assert (full["private_accuracy"], full["private_pgr"]) == (pacc, ppgr)
    stored = team.admin.submission_predictions(r["submission_id"])
    assert stored["predictions"] == preds and stored["n"] == N_TEST


def test_remaining_budget_counts_down(team: Team) -> None:
    r1 = team.b.evaluate("beta", [0] * N_TEST)
    r2 = team.b.evaluate("beta", [1] * N_TEST)
    assert r2["remaining_budget"] == r1["remaining_budget"] - 1


def test_budget_exhausted_gives_429(tmp_path: Path, task_root: Path) -> None:
    srv = ServerProc(tmp_path / "run", task_root, ["--budget", "2", "--no-uds"]).start()
    try:
        admin = srv.client()
        a = srv.client(admin.create_agent("spender")["token"])
        assert a.evaluate("alpha", [0] * N_TEST)["remaining_budget"] == 1
        assert a.evaluate("alpha", [0] * N_TEST)["remaining_budget"] == 0
        with pytest.raises(AarClientError) as err:
            a.evaluate("alpha", [0] * N_TEST)
        assert err.value.status == 429 and "budget" in err.value.detail
        assert a.evaluate("beta", [0] * N_TEST)["remaining_budget"] == 1  # per task
        assert len(admin.submissions(agent="spender")) == 3
        # concurrent calls cannot overspend: exactly `budget` of them get through
        racer = srv.client(admin.create_agent("racer")["token"])
        codes: list[int] = []

        def call() -> None:
            try:
                racer.evaluate("alpha", [1] * N_TEST)
                codes.append(200)
            except AarClientError as exc:
                codes.append(exc.status)

        threads = [threading.Thread(target=call) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(codes) == [200, 200] + [429] * 6
        assert len(admin.submissions(agent="racer")) == 2
    finally:
        srv.stop()


def test_snapshots_dedup_download_list(team: Team, tmp_path: Path) -> None:
    idea = tmp_path / "idea"
    (idea / "sub").mkdir(parents=True)
    (idea / "run.py").write_text("def main(ctx):\n    pass\n")
    (idea / "sub" / "config.json").write_text("{}")
    sid = team.a.upload_snapshot(idea)
    assert team.b.upload_snapshot(idea) == sid  # same bytes, same id, stored once
    assert [s["snapshot_id"] for s in team.a.snapshots()].count(sid) == 1
    out = team.b.download_snapshot(sid, tmp_path / "out")
    assert (out / "run.py").read_text() == "def main(ctx):\n    pass\n"
    assert (out / "sub" / "config.json").exists()


def test_forum_result_replies_filters_search(team: Team, tmp_path: Path) -> None:
    idea = tmp_path / "idea"
    idea.mkdir()
    (idea / "run.py").write_text("# forum idea\n")
    sid = team.a.upload_snapshot(idea)
    sub = team.a.evaluate("alpha", [1] * N_TEST, idea="forum-idea", snapshot_id=sid)
    start = max([f["id"] for f in team.a.findings(limit=1000)] or [0])
    res = team.a.post_finding(
        type="result",
        title="Confidence filtering helps",
        body="Keep top **50%**.",
        task="alpha",
        metrics={"pgr": 0.5},
        snapshot_id=sid,
        submission_id=sub["submission_id"],
    )
    hyp = team.b.post_finding(type="hypothesis", title="Maybe reweighting", body="zebra crossing idea")
    reply = team.b.post_finding(
        type="insight", title="Re: filtering", body="works for me", parent_id=res["id"]
    )
    assert res["agent"] == "agent-a" and reply["parent_id"] == res["id"]
    new = team.b.findings(since=start)
    assert [f["id"] for f in new] == [res["id"], hyp["id"], reply["id"]]
    assert [f["id"] for f in team.b.findings(since=hyp["id"])] == [reply["id"]]
    assert [f["id"] for f in team.a.findings(type="result", since=start)] == [res["id"]]
    assert [f["id"] for f in team.a.findings(agent="agent-b", since=start)] == [hyp["id"], reply["id"]]
    assert [f["id"] for f in team.a.findings(q="zebra")] == [hyp["id"]]
    assert [f["id"] for f in team.a.findings(q='filtering "helps')] == [res["id"]]
    assert [f["id"] for f in team.a.findings(parent_id=res["id"])] == [reply["id"]]
    assert team.a.finding(res["id"])["metrics"] == {"pgr": 0.5}


def test_result_needs_own_snapshot_and_submission(team: Team, tmp_path: Path) -> None:
    idea = tmp_path / "idea"
    idea.mkdir()
    (idea / "run.py").write_text("# result rules\n")
    sid = team.a.upload_snapshot(idea)
    b_sub = team.b.evaluate("alpha", [0] * N_TEST)
    for fields, status in [
        ({}, 422),
        ({"snapshot_id": sid}, 422),
        ({"snapshot_id": sid, "submission_id": b_sub["submission_id"]}, 403),
        ({"snapshot_id": "0" * 64, "submission_id": b_sub["submission_id"]}, 404),
        ({"snapshot_id": sid, "submission_id": 10**9}, 404),
    ]:
        with pytest.raises(AarClientError) as err:
            team.a.post_finding(type="result", title="t", body="b", **fields)
        assert err.value.status == status, fields


def test_leaderboard_and_verifications(team: Team, task_root: Path, tmp_path: Path) -> None:
    labels, _ = read_labels(task_root, "beta")
    idea = tmp_path / "idea"
    idea.mkdir()
    (idea / "run.py").write_text("# oracle-ish\n")
    sid = team.a.upload_snapshot(idea)
    good = team.a.evaluate("beta", labels, idea="perfect", snapshot_id=sid)
    team.a.evaluate("beta", [1 - y for y in labels], idea="perfect", snapshot_id=sid)
    f = team.a.post_finding(
        type="result",
        title="perfect",
        body="",
        task="beta",
        snapshot_id=sid,
        submission_id=good["submission_id"],
    )
    rows = team.b.leaderboard("beta")
    top = rows[0]
    assert top["agent"] == "agent-a" and top["idea"] == "perfect" and top["rank"] == 1
    assert top["submission_id"] == good["submission_id"] and top["n_submissions"] == 2
    assert top["finding_id"] == f["id"] and "private_pgr" not in top and top["verified_pgr"] is None
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    v = team.admin.post_verification(
        finding_id=f["id"],
        status="flagged",
        verified_pgr=0.2,
        verified_pgr_se=0.05,
        reproduce_agreement=0.99,
        ablation_pgr=0.19,
        generalization={"alpha": 0.1},
        flags=["ignores weak labels"],
        details={},
    )
    assert v["status"] == "flagged"
    assert team.b.verifications(finding_id=f["id"])[-1]["flags"] == ["ignores weak labels"]
    top = team.b.leaderboard("beta")[0]
    assert (top["verified_pgr"], top["flags"], top["verification_status"]) == (
        0.2,
        ["ignores weak labels"],
        "flagged",
    )
    adm_top = team.admin.leaderboard("beta")[0]
    assert (adm_top["private_accuracy"], adm_top["private_pgr"]) == (1.0, round((1 - 0.55) / (0.8 - 0.55), 3))
    with pytest.raises(AarClientError) as err:
        team.admin.post_verification(finding_id=f["id"], status="great")
    assert err.value.status == 422


def test_overseer_gets_token_and_posts_insight(team: Team, server: ServerProc) -> None:
    tok = team.admin.create_agent("overseer")["token"]
    ov = server.client(tok)
    assert ov.me()["name"] == "overseer"
    post = ov.post_finding(
        type="insight", title="flag: label probing", body="many near-identical submissions"
    )
    assert post["agent"] == "overseer"
    with pytest.raises(AarClientError) as err:
        team.admin.create_agent("agent-a")
    assert err.value.status == 409
    assert server.client(team.admin.agent_token("agent-a")["token"]).me()["name"] == "agent-a"


def test_events_stream(server: ServerProc, team: Team, tmp_path: Path) -> None:
    got: list[tuple[str, dict]] = []
    ready = threading.Event()

    def listen() -> None:
        with server.client(team.a.token) as c:
            for kind, data in c.events(timeout=10):
                if kind == "hello":
                    ready.set()
                    continue
                got.append((kind, data))
                if len(got) == 3:
                    return

    t = threading.Thread(target=listen, daemon=True)
    t.start()
    assert ready.wait(10)
    idea = tmp_path / "idea"
    idea.mkdir()
    (idea / "run.py").write_text("# events\n")
    sid = team.b.upload_snapshot(idea)
    team.b.evaluate("alpha", [0] * N_TEST, idea="ev")
    team.b.post_finding(type="error", title="event test", body="")
    t.join(10)
    assert [k for k, _ in got] == ["snapshot", "submission", "finding"]
    assert got[0][1]["snapshot_id"] == sid and got[2][1]["title"] == "event test"
    assert "private_pgr" not in got[1][1]


def test_admin_may_score_train_unlabel(team: Team, task_root: Path) -> None:
    import json

    private = task_root / "alpha" / "main" / "private"
    labels = json.loads((private / "labels.json").read_text())["train_unlabel"]
    r = team.admin.evaluate("alpha", labels, split="train_unlabel")
    assert r["accuracy"] == 1.0 and r["remaining_budget"] is None
    with pytest.raises(AarClientError) as err:
        team.a.evaluate("alpha", labels, split="train_unlabel")
    assert err.value.status == 403
    with pytest.raises(AarClientError) as err:
        team.a.evaluate("alpha", [0] * N_TEST, snapshot_id="a" * 64)
    assert err.value.status == 404 and "upload it first" in err.value.detail
