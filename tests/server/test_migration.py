"""An old run's database (revision 0001, with data) upgrades to the grader schema and keeps its data."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from aar.server.db import MIGRATIONS_DIR, make_engine, migrate


def _upgrade(engine, rev: str) -> None:  # noqa: ANN001
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, rev)


def test_0001_database_upgrades_with_its_data(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'aar.db'}")
    _upgrade(engine, "0001")
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO agents (id, name, role, builtin, created_at) VALUES "
                "(1, 'admin', 'admin', 1, '2026-01-01'), (2, 'alice', 'agent', 0, '2026-01-01')"
            )
        )
        for i, day in enumerate(["2026-01-01", "2026-01-02"], start=1):
            c.execute(
                text(
                    "INSERT INTO submissions (id, agent_id, task, split, n, predictions_sha256, "
                    "predictions_packed, accuracy, pgr, day, created_at) "
                    "VALUES (:i, 2, 'math', 'test', 8, :h, :p, 0.5, 0.1, :d, :d)"
                ),
                {"i": i, "h": "0" * 64, "p": b"\x00", "d": day},
            )
        c.execute(
            text(
                "INSERT INTO findings (id, agent_id, type, title, body, submission_id, created_at) VALUES "
                "(7, 2, 'result', 'Searching for filters', 'rounds of bootstrapping', 1, '2026-01-02')"
            )
        )
        c.execute(
            text(
                "INSERT INTO verifications (id, finding_id, status, verified_pgr, flags, created_at) "
                "VALUES (3, 7, 'verified', 0.4, '[]', '2026-01-03')"
            )
        )
    migrate(engine)
    insp = inspect(engine)
    assert "day" not in {c["name"] for c in insp.get_columns("submissions")}
    assert {"rechecks", "agent_flags", "finding_terms"} <= set(insp.get_table_names())
    assert "findings_fts" not in set(insp.get_table_names())
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM submissions WHERE agent_id = 2")).scalar() == 2
        assert c.execute(text("SELECT finding_id, status, verified_pgr FROM verifications")).one() == (
            7,
            "verified",
            0.4,
        )
        terms = {r[0] for r in c.execute(text("SELECT term FROM finding_terms WHERE finding_id = 7"))}
        assert {"search", "filter", "round", "bootstrap"} <= terms
    migrate(engine)  # idempotent
    engine.dispose()
