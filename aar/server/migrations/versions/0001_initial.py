"""Initial schema: agents, tokens, snapshots, submissions, findings (+ full-text index), verifications.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(100), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("direction", sa.Text, nullable=True),
        sa.Column("builtin", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "snapshots",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("n_files", sa.Integer, nullable=False),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("task", sa.String(100), nullable=False),
        sa.Column("split", sa.String(32), nullable=False),
        sa.Column("idea", sa.String(200), nullable=True),
        sa.Column("snapshot_id", sa.String(64), nullable=True),
        sa.Column("n", sa.Integer, nullable=False),
        sa.Column("predictions_sha256", sa.String(64), nullable=False),
        sa.Column("predictions_packed", sa.LargeBinary, nullable=False),
        sa.Column("accuracy", sa.Float, nullable=False),
        sa.Column("pgr", sa.Float, nullable=True),
        sa.Column("private_accuracy", sa.Float, nullable=True),
        sa.Column("private_pgr", sa.Float, nullable=True),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_submissions_budget", "submissions", ["agent_id", "task", "day"])
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("agent_id", sa.Integer, sa.ForeignKey("agents.id"), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("task", sa.String(100), nullable=True),
        sa.Column("metrics", sa.JSON, nullable=True),
        sa.Column("snapshot_id", sa.String(64), nullable=True),
        sa.Column("submission_id", sa.Integer, sa.ForeignKey("submissions.id"), nullable=True),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("findings.id"), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_findings_agent", "findings", ["agent_id"])
    op.create_index("ix_findings_type", "findings", ["type"])
    op.create_index("ix_findings_submission", "findings", ["submission_id"])
    op.create_table(
        "verifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("finding_id", sa.Integer, sa.ForeignKey("findings.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("verified_pgr", sa.Float, nullable=True),
        sa.Column("verified_pgr_se", sa.Float, nullable=True),
        sa.Column("reproduce_agreement", sa.Float, nullable=True),
        sa.Column("ablation_pgr", sa.Float, nullable=True),
        sa.Column("generalization", sa.JSON, nullable=True),
        sa.Column("flags", sa.JSON, nullable=True),
        sa.Column("details", sa.JSON, nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_verifications_finding", "verifications", ["finding_id"])

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE findings_fts USING fts5("
            "title, body, content='findings', content_rowid='id')"
        )
        op.execute(
            "CREATE TRIGGER findings_ai AFTER INSERT ON findings BEGIN "
            "INSERT INTO findings_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END"
        )
        op.execute(
            "CREATE TRIGGER findings_ad AFTER DELETE ON findings BEGIN "
            "INSERT INTO findings_fts(findings_fts, rowid, title, body) "
            "VALUES ('delete', old.id, old.title, old.body); END"
        )
    elif dialect == "postgresql":
        op.execute(
            "ALTER TABLE findings ADD COLUMN search tsvector GENERATED ALWAYS AS "
            "(to_tsvector('english', coalesce(title, '') || ' ' || coalesce(body, ''))) STORED"
        )
        op.execute("CREATE INDEX ix_findings_search ON findings USING GIN (search)")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS findings_ai")
        op.execute("DROP TRIGGER IF EXISTS findings_ad")
        op.execute("DROP TABLE IF EXISTS findings_fts")
    for table in ("verifications", "findings", "submissions", "snapshots", "tokens", "agents"):
        op.drop_table(table)
