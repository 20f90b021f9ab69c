"""The grader: re-check runs, server-computed verifications (findings and baselines), run manifests,
per-run budgets, agent flags, and one forum search rule for every database.

Revision ID: 0002
Revises: 0001

- submissions: `day` dropped (budgets are per run), `manifest` and `exact_accuracy` added, budget index
  on (agent_id, task).
- rechecks: new. verifications: finding_id nullable; baseline, task, verified_accuracy,
  blank_strong_pgr/accuracy, labels, runs, screened, note added.
- agent_flags: new (the probing detector's verdicts).
- forum search: the SQLite FTS5 table/triggers and the PostgreSQL tsvector column are replaced by
  `finding_terms` (see `aar.server.search`), back-filled from the existing findings.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _drop_old_search(dialect: str) -> None:
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS findings_ai")
        op.execute("DROP TRIGGER IF EXISTS findings_ad")
        op.execute("DROP TABLE IF EXISTS findings_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_findings_search")
        op.execute("ALTER TABLE findings DROP COLUMN IF EXISTS search")


def _backfill_terms() -> None:
    from aar.server.search import terms

    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, title, body FROM findings")).all()
    table = sa.table("finding_terms", sa.column("term", sa.String), sa.column("finding_id", sa.Integer))
    for fid, title, body in rows:
        values = [{"term": t, "finding_id": fid} for t in sorted(terms(title or "", body or ""))]
        if values:
            conn.execute(sa.insert(table), values)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_index("ix_submissions_budget", table_name="submissions")
    if dialect == "sqlite":  # a native DROP COLUMN (SQLite >= 3.35): no table copy, foreign keys intact
        op.execute("ALTER TABLE submissions DROP COLUMN day")
    else:
        op.drop_column("submissions", "day")
    op.add_column("submissions", sa.Column("manifest", sa.JSON, nullable=True))
    op.add_column("submissions", sa.Column("exact_accuracy", sa.Float, nullable=True))
    op.create_index("ix_submissions_agent_task", "submissions", ["agent_id", "task"])

    op.create_table(
        "rechecks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("finding_id", sa.Integer, sa.ForeignKey("findings.id"), nullable=True),
        sa.Column("baseline", sa.String(100), nullable=True),
        sa.Column("subject_task", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("task", sa.String(100), nullable=False),
        sa.Column("draw", sa.String(16), nullable=False),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("n", sa.Integer, nullable=True),
        sa.Column("accuracy", sa.Float, nullable=True),
        sa.Column("pgr", sa.Float, nullable=True),
        sa.Column("agreement", sa.Float, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("manifest", sa.JSON, nullable=True),
        sa.Column("seconds", sa.Float, nullable=True),
        sa.Column("predictions_sha256", sa.String(64), nullable=True),
        sa.Column("predictions_packed", sa.LargeBinary, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_rechecks_finding", "rechecks", ["finding_id"])
    op.create_index("ix_rechecks_baseline", "rechecks", ["baseline", "subject_task"])

    # verifications is referenced by no table, so SQLite's batch copy-and-rename is safe here
    with op.batch_alter_table("verifications") as batch:
        batch.alter_column("finding_id", existing_type=sa.Integer, nullable=True)
        batch.add_column(sa.Column("baseline", sa.String(100), nullable=True))
        batch.add_column(sa.Column("task", sa.String(100), nullable=True))
        batch.add_column(sa.Column("verified_accuracy", sa.Float, nullable=True))
        batch.add_column(sa.Column("blank_strong_pgr", sa.Float, nullable=True))
        batch.add_column(sa.Column("blank_strong_accuracy", sa.Float, nullable=True))
        batch.add_column(sa.Column("labels", sa.JSON, nullable=True))
        batch.add_column(sa.Column("runs", sa.JSON, nullable=True))
        batch.add_column(sa.Column("screened", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("note", sa.Text, nullable=True))
    op.create_index("ix_verifications_baseline", "verifications", ["baseline", "task"])

    op.create_table(
        "agent_flags",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("flag", sa.String(32), nullable=False),
        sa.Column("task", sa.String(100), nullable=False),
        sa.Column("details", sa.JSON, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("agent_id", "flag", "task", name="uq_agent_flags"),
    )

    _drop_old_search(dialect)
    op.create_table(
        "finding_terms",
        sa.Column("term", sa.String(64), primary_key=True),
        sa.Column("finding_id", sa.Integer, sa.ForeignKey("findings.id"), primary_key=True),
    )
    _backfill_terms()


def downgrade() -> None:
    raise NotImplementedError("0002 is not reversible: budgets, verifications and search changed shape")
