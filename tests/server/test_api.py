"""The API end to end over real HTTP (TCP and Unix socket): scoring, forum, code store, board, events."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from server_helpers import N_TEST, ServerProc, Team, check_search, read_labels

from aar.server.public_figures import keyed_noise, noise_amplitude, shown
from aar.tasks.grade import Baselines
from aar.tasks.secret import task_secret
from aarlab.client import AarClient, AarClientError


def _halves(labels: list[int], mask: list[bool], preds: list[int]) -> tuple[float, float]:
    pub = [p == y for p, y, m in zip(preds, labels, mask, strict=True) if m]
    prv = [p == y for p, y, m in zip(preds, labels, mask, strict=True) if not m]
    return sum(pub) / len(pub), sum(prv) / len(prv)


def _shown(
    task: str, labels: list[int], mask: list[bool], preds: list[int], weak: float, strong: float
) -> tuple:
    """What the server must show: the keyed noise of the public half's predictions, then 2 decimals."""
    acc, _ = _halves(labels, mask, preds)
    pub = np.asarray([p for p, m in zip(preds, mask, strict=True) if m], dtype=np.uint8)
    noise = keyed_noise(task_secret(), task, pub)
    assert abs(noise) <= noise_amplitude(int(mask.count(True)))
    fig = shown(acc, noise, Baselines(weak, strong))
    return fig.accuracy, fig.pgr


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
    exact, pacc = _halves(labels, mask, preds)
    r = team.a.evaluate("alpha", preds, idea="flip-third")
    assert set(r) == {"submission_id", "accuracy", "pgr", "remaining_budget"}
    assert (r["accuracy"], r["pgr"]) == _shown("alpha", labels, mask, preds, 0.6, 0.9)
    # within the noise bound and 2 decimals; the PGR is the shown accuracy's
    assert abs(r["accuracy"] - exact) <= noise_amplitude(mask.count(True)) + 0.005
    assert r["accuracy"] == round(r["accuracy"], 2)
    assert r["pgr"] == round((r["accuracy"] - 0.6) / 0.3, 2)
    # a resubmission, and a change of private-half predictions only, re-roll nothing
    again = team.a.evaluate("alpha", preds)
    priv_flip = [1 - p if not m else p for p, m in zip(preds, mask, strict=True)]
    other = team.a.evaluate("alpha", priv_flip)
    assert (again["accuracy"], again["pgr"]) == (other["accuracy"], other["pgr"]) == (r["accuracy"], r["pgr"])
    own = [s for s in team.a.submissions() if s["submission_id"] == r["submission_id"]][0]
    assert "private_pgr" not in own and own["idea"] == "flip-third" and len(own["predictions_sha256"]) == 64
    assert "exact_accuracy" not in own
    full = [s for s in team.admin.submissions() if s["submission_id"] == r["submission_id"]][0]
    assert full["private_accuracy"] == pytest.approx(pacc)
    assert full["private_pgr"] == pytest.approx((pacc - 0.6) / 0.3)
    assert full["exact_accuracy"] == pytest.approx(exact)
    stored = team.admin.submission_predictions(r["submission_id"])
    assert stored["predictions"] == preds and stored["n"] == N_TEST
    # the admin is trusted: exact figures
    adm = team.admin.evaluate("alpha", preds)
    assert adm["accuracy"] == pytest.approx(exact) and adm["private_accuracy"] == pytest.approx(pacc)


def test_manifest_is_stored_and_checked(team: Team, task_root: Path) -> None:
    import hashlib

    labels, _ = read_labels(task_root, "alpha")
    digest = hashlib.sha256(bytes(labels)).hexdigest()
    manifest = {
        "seed": 3,
        "mode": "probe",
        "data_hash": "d" * 64,
        "code_hash": "c" * 64,
        "aarlab_version": "0.1.0",
        "predictions_sha256": digest,
    }
    r = team.a.evaluate("alpha", labels, manifest=manifest)
    own = [s for s in team.a.submissions() if s["submission_id"] == r["submission_id"]][0]
    assert own["manifest"] == manifest
    with pytest.raises(AarClientError) as err:
        team.a.evaluate("alpha", [1 - y for y in labels], manifest=manifest)
    assert err.value.status == 422 and "predictions_sha256" in err.value.detail


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
        assert err.value.status == 429 and "budget" in err.value.detail and "run" in err.value.detail
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


def test_search_rule(team: Team) -> None:
    check_search(team.a)


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
    # the overseer hands the server re-run predictions; the server scores them and judges
    subject = {"finding_id": f["id"]}
    rep = team.admin.post_recheck(subject, "reproduce", "beta", "main", 0, predictions=labels)
    assert rep["agreement"] == 1.0 and rep["accuracy"] == 1.0 and rep["n"] == N_TEST
    held = json.loads((task_root / "beta" / "heldout" / "private" / "labels.json").read_text())["test"]
    half = [y if i % 2 else 1 - y for i, y in enumerate(held)]  # 50% on the held-out draw
    h = team.admin.post_recheck(subject, "heldout", "beta", "heldout", 0, predictions=half, seconds=1.5)
    assert h["accuracy"] == pytest.approx(0.5) and h["pgr"] == pytest.approx((0.5 - 0.55) / 0.25)
    team.admin.post_recheck(subject, "shuffled_weak", "beta", "heldout", 0, predictions=half)
    gen = team.admin.post_recheck(subject, "generalization", "alpha", "heldout", 0, error="out of memory")
    assert gen["accuracy"] is None
    # a dry run: the judgment the re-checks so far get, nothing stored or shown to agents
    dry = team.admin.close_verification(subject, dry_run=True)
    assert dry["status"] == "verified" and dry["verified_pgr"] == pytest.approx(-0.2) and dry["id"] is None
    assert team.admin.verifications(finding_id=f["id"]) == [] == team.b.verifications(finding_id=f["id"])
    with pytest.raises(AarClientError) as err:
        team.a.close_verification(subject, dry_run=True)
    assert err.value.status == 403
    v = team.admin.close_verification(subject, note="first pass")
    assert v["status"] == "verified" and v["labels"] == ["teacher-independent"] and v["flags"] == []
    assert v["verified_pgr"] == pytest.approx(-0.2) and v["reproduce_agreement"] == 1.0
    assert v["generalization"] == {} and len(v["runs"]) == 4 and v["note"] == "first pass"
    agent_view = team.b.verifications(finding_id=f["id"])
    assert len(agent_view) == 1 and set(agent_view[0]) == {
        "id",
        "finding_id",
        "baseline",
        "task",
        "status",
        "verified_pgr",
        "flags",
        "labels",
        "created_at",
    }
    assert agent_view[0]["verified_pgr"] == -0.2
    top = team.b.leaderboard("beta")[0]
    assert (top["verified_pgr"], top["flags"], top["verification_status"]) == (-0.2, [], "verified")
    adm_top = team.admin.leaderboard("beta")[0]
    assert adm_top["private_accuracy"] == 1.0
    assert adm_top["private_pgr"] == pytest.approx((1 - 0.55) / (0.8 - 0.55))
    # re-closing replaces the verification: one row per subject
    team.admin.post_recheck(subject, "reproduce", "beta", "main", 1, predictions=[1 - y for y in labels])
    v2 = team.admin.close_verification(subject)
    assert v2["id"] > v["id"] and v2["status"] == "flagged" and v2["flags"] == ["unreproducible"]
    assert [x["id"] for x in team.admin.verifications(finding_id=f["id"])] == [v2["id"]]
    board = team.b.verified_leaderboard("beta")
    row = next(r for r in board if r["finding_id"] == f["id"])
    assert row["status"] == "flagged" and row["rank"] is None and "details" not in row
    with pytest.raises(AarClientError) as err:
        team.admin.post_recheck(subject, "heldout", "beta", "main", 0, predictions=labels)
    assert err.value.status == 422
    with pytest.raises(AarClientError) as err:
        team.a.close_verification(subject)
    assert err.value.status == 403


def test_verified_baselines_and_claims(team: Team, task_root: Path, tmp_path: Path) -> None:
    held = json.loads((task_root / "alpha" / "heldout" / "private" / "labels.json").read_text())["test"]
    near = [y if i % 5 else 1 - y for i, y in enumerate(held)]  # 80% on the held-out draw
    weakish = [y if i % 3 else 1 - y for i, y in enumerate(held)]
    base = {"baseline": "vanilla_w2s", "task": "alpha"}
    for seed in (0, 1):
        team.admin.post_recheck(base, "heldout", "alpha", "heldout", seed, predictions=near)
    team.admin.post_recheck(base, "shuffled_weak", "alpha", "heldout", 0, predictions=weakish)
    bv = team.admin.close_verification(base)
    assert bv["status"] == "verified" and bv["baseline"] == "vanilla_w2s" and bv["finding_id"] is None
    assert bv["verified_pgr"] == pytest.approx((0.8 - 0.6) / 0.3) and bv["verified_pgr_se"] == 0.0
    assert bv["ablation_pgr"] is not None and bv["labels"] == []
    rows = team.a.verified_baselines("alpha")
    assert [r["baseline"] for r in rows] == ["vanilla_w2s"]
    assert rows[0]["verified_pgr"] == round((0.8 - 0.6) / 0.3, 2) and rows[0]["rank"] == 1
    # a claim from a snapshot b first uploaded: a may post it (flagged) and the claim is b's
    idea = tmp_path / "shared-idea"
    idea.mkdir()
    (idea / "run.py").write_text("# shared\n")
    sid = team.b.upload_snapshot(idea)
    labels, _ = read_labels(task_root, "alpha")
    subs = {c: c.evaluate("alpha", labels, snapshot_id=sid) for c in (team.a, team.b)}
    fa = team.a.post_finding(
        type="result",
        title="mine",
        body="",
        task="alpha",
        snapshot_id=sid,
        submission_id=subs[team.a]["submission_id"],
    )
    fb = team.b.post_finding(
        type="result",
        title="theirs",
        body="",
        task="alpha",
        snapshot_id=sid,
        submission_id=subs[team.b]["submission_id"],
    )
    for f in (fa, fb):
        team.admin.post_recheck({"finding_id": f["id"]}, "heldout", "alpha", "heldout", 0, predictions=near)
    va = team.admin.close_verification({"finding_id": fa["id"]})
    vb = team.admin.close_verification({"finding_id": fb["id"]})
    assert va["flags"] == ["foreign-snapshot"] and va["status"] == "flagged"
    assert vb["status"] == "verified"
    board = team.admin.verified_leaderboard("alpha")
    claim = next(r for r in board if r["snapshot_id"] == sid)
    assert claim["agent"] == "agent-b" and claim["finding_id"] == fb["id"]
    assert sorted(claim["finding_ids"]) == sorted([fa["id"], fb["id"]]) and claim["status"] == "verified"
    assert sum(1 for r in board if r["snapshot_id"] == sid) == 1
    ranked = [r for r in board if r["rank"] is not None]
    assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
    assert {r["kind"] for r in ranked} == {"claim", "baseline"}


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


def _listen(
    server: ServerProc,
    token: str,
    want: int,
    got: list,
    ready: threading.Event,
    last_event_id: str | None = None,
    box: dict | None = None,
) -> None:
    with server.client(token) as c:
        for kind, data in c.events(timeout=10, last_event_id=last_event_id):
            if kind == "hello":
                ready.set()
                continue
            got.append((kind, data))
            if len(got) == want:
                break
        if box is not None:
            box["last"] = c.last_event_id


def test_events_stream_per_caller_and_resume(server: ServerProc, team: Team, tmp_path: Path) -> None:
    got: list[tuple[str, dict]] = []
    ready = threading.Event()
    box: dict = {}
    t = threading.Thread(target=_listen, args=(server, team.a.token, 3, got, ready, None, box), daemon=True)
    t.start()
    assert ready.wait(10)
    idea = tmp_path / "idea"
    idea.mkdir()
    (idea / "run.py").write_text("# events\n")
    sid = team.b.upload_snapshot(idea)
    team.b.evaluate("alpha", [0] * N_TEST, idea="ev")  # b's submission: never shown to a
    team.b.post_finding(type="error", title="event test", body="")
    team.a.evaluate("alpha", [1] * N_TEST, idea="mine")
    t.join(10)
    assert [k for k, _ in got] == ["snapshot", "finding", "submission"]
    assert got[0][1]["snapshot_id"] == sid and got[1][1]["title"] == "event test"
    assert got[2][1]["agent"] == "agent-a" and "private_pgr" not in got[2][1]
    # resume: what happened while a was away comes on reconnect with Last-Event-ID
    team.b.post_finding(type="insight", title="while you were away", body="")
    team.a.evaluate("alpha", [0, 1] * (N_TEST // 2), idea="away")
    later: list[tuple[str, dict]] = []
    ready2 = threading.Event()
    t = threading.Thread(
        target=_listen, args=(server, team.a.token, 2, later, ready2, box["last"]), daemon=True
    )
    t.start()
    t.join(10)
    assert [(k, d.get("title") or d.get("idea")) for k, d in later] == [
        ("finding", "while you were away"),
        ("submission", "away"),
    ]
    # an id from another server boot (or too old): a reset, then live events
    stale: list[tuple[str, dict]] = []
    ready3 = threading.Event()
    t = threading.Thread(
        target=_listen, args=(server, team.a.token, 1, stale, ready3, "deadbeef-5"), daemon=True
    )
    t.start()
    t.join(10)
    assert stale and stale[0][0] == "reset"
    # the admin sees every submission, with private figures
    adm: list[tuple[str, dict]] = []
    ready4 = threading.Event()
    t = threading.Thread(target=_listen, args=(server, team.admin.token, 1, adm, ready4), daemon=True)
    t.start()
    assert ready4.wait(10)
    team.b.evaluate("alpha", [1] * N_TEST, idea="for-admin")
    t.join(10)
    assert adm[0][0] == "submission" and adm[0][1]["agent"] == "agent-b" and "private_pgr" in adm[0][1]


def test_openapi_documents_bodies_and_bearer(server: ServerProc) -> None:
    import httpx

    doc = httpx.get(server.url + "/openapi.json").json()
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    ev = doc["paths"]["/api/evaluate"]["post"]
    assert {"task", "predictions", "manifest"} <= set(
        ev["requestBody"]["content"]["application/json"]["schema"]["properties"]
    )
    assert ev["security"] == [{"HTTPBearer": []}]
    for path in (
        "/api/findings",
        "/api/admin/rechecks",
        "/api/admin/verifications/close",
        "/api/admin/agents",
    ):
        assert "requestBody" in doc["paths"][path]["post"], path
    assert "application/gzip" in doc["paths"]["/api/snapshots"]["post"]["requestBody"]["content"]


def test_admin_may_score_train_unlabel(team: Team, task_root: Path) -> None:
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
