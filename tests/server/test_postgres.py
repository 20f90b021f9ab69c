"""The same server on PostgreSQL: migrations, scoring, tsvector search, results, leaderboard, restart."""

from __future__ import annotations

from pathlib import Path

import pytest
from server_helpers import N_TEST, ServerProc, check_search
from server_pg import PgCluster


def test_server_on_postgresql(tmp_path: Path, task_root: Path) -> None:
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        pytest.fail("psycopg2 is required for the PostgreSQL test: pip install psycopg2-binary")
    try:
        cluster = PgCluster()
        url = cluster.start()
    except RuntimeError as exc:
        pytest.fail(f"cannot start a throwaway PostgreSQL cluster: {exc}")
    bare = url.replace("postgresql+psycopg2://", "postgresql://")  # no driver named: psycopg2 is used
    srv = ServerProc(tmp_path / "run", task_root, ["--db-url", bare, "--no-uds"])
    try:
        srv.start()
        admin = srv.client()
        a = srv.client(admin.create_agent("pg-agent")["token"])
        idea = tmp_path / "idea"
        idea.mkdir()
        (idea / "run.py").write_text("# pg\n")
        sid = a.upload_snapshot(idea)
        sub = a.evaluate("alpha", [1] * N_TEST, idea="pg-idea", snapshot_id=sid)
        assert sub["remaining_budget"] == 299
        manifest = {"seed": 0, "mode": "probe", "data_hash": "a" * 64}
        sub2 = a.evaluate("alpha", [0] * N_TEST, idea="pg-idea", snapshot_id=sid, manifest=manifest)
        assert a.submissions()[-1]["manifest"] == manifest and sub2["remaining_budget"] == 298
        f = a.post_finding(
            type="result",
            title="Postgres ranking works",
            body="tsvector searching",
            task="alpha",
            metrics={"pgr": 0.1},
            snapshot_id=sid,
            submission_id=sub["submission_id"],
        )
        a.post_finding(type="insight", title="unrelated", body="nothing here", parent_id=f["id"])
        assert [x["id"] for x in a.findings(q="searching")] == [f["id"]]  # stemming: search/searching
        assert [x["id"] for x in a.findings(q="ranking postgres")] == [f["id"]]
        check_search(a)  # the same rule and answers as on SQLite (test_api.py::test_search_rule)
        subject = {"finding_id": f["id"]}
        admin.post_recheck(subject, "reproduce", "alpha", "main", 0, predictions=[1] * N_TEST)
        h = admin.post_recheck(subject, "heldout", "alpha", "heldout", 0, predictions=[1] * N_TEST)
        v = admin.close_verification(subject)
        assert v["status"] == "verified" and v["verified_pgr"] == pytest.approx(h["pgr"])
        admin.post_recheck(
            {"baseline": "weak", "task": "alpha"}, "heldout", "alpha", "heldout", 0, predictions=[0] * N_TEST
        )
        admin.close_verification({"baseline": "weak", "task": "alpha"})
        assert [r["baseline"] for r in a.verified_baselines("alpha")] == ["weak"]
        row = admin.leaderboard("alpha")[0]
        assert row["finding_id"] == f["id"] and row["verified_pgr"] == pytest.approx(h["pgr"])
        assert "private_pgr" in row
        assert admin.probing() == []
        srv.stop()
        srv.start()  # migrations are idempotent; data persisted
        admin = srv.client()
        assert admin.submissions()[0]["submission_id"] == sub["submission_id"]
        assert srv.client(a.token).me()["name"] == "pg-agent"
        assert [x["id"] for x in admin.findings(q="tsvector postgres")] == [f["id"]]
        assert admin.verifications(finding_id=f["id"])[0]["status"] == "verified"
    finally:
        srv.stop()
        cluster.stop()
