"""The same server on PostgreSQL: migrations, scoring, tsvector search, results, leaderboard, restart."""

from __future__ import annotations

from pathlib import Path

import pytest
from server_helpers import N_TEST, ServerProc
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
    srv = ServerProc(tmp_path / "run", task_root, ["--db-url", url, "--no-uds"])
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
        assert [x["id"] for x in a.findings(q="searching")] == [f["id"]]  # english stemming: search/searching
        assert [x["id"] for x in a.findings(q="ranking postgres")] == [f["id"]]
        admin.post_verification(finding_id=f["id"], status="verified", verified_pgr=0.12, flags=[])
        row = admin.leaderboard("alpha")[0]
        assert row["finding_id"] == f["id"] and row["verified_pgr"] == 0.12 and "private_pgr" in row
        srv.stop()
        srv.start()  # migrations are idempotent; data persisted
        admin = srv.client()
        assert admin.submissions()[0]["submission_id"] == sub["submission_id"]
        assert srv.client(a.token).me()["name"] == "pg-agent"
    finally:
        srv.stop()
        cluster.stop()
