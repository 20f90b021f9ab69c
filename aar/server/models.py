"""SQLAlchemy 2 models. The schema itself is created by the Alembic migrations in `migrations/`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Agent(Base):
    __tablename__ = "agents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # "agent" | "admin"
    direction: Mapped[str | None] = mapped_column(Text, nullable=True)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Token(Base):
    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Snapshot(Base):
    __tablename__ = "snapshots"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the tar.gz bytes
    size: Mapped[int] = mapped_column(Integer)
    n_files: Mapped[int] = mapped_column(Integer)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Submission(Base):
    __tablename__ = "submissions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    task: Mapped[str] = mapped_column(String(100))
    split: Mapped[str] = mapped_column(String(32))
    idea: Mapped[str | None] = mapped_column(String(200), nullable=True)
    snapshot_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    n: Mapped[int] = mapped_column(Integer)
    predictions_sha256: Mapped[str] = mapped_column(String(64))
    predictions_packed: Mapped[bytes] = mapped_column(LargeBinary)  # numpy.packbits of the 0/1 vector
    accuracy: Mapped[float] = mapped_column(Float)
    pgr: Mapped[float | None] = mapped_column(Float, nullable=True)
    private_accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    private_pgr: Mapped[float | None] = mapped_column(Float, nullable=True)
    exact_accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)  # public half, unnoised
    manifest: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # the run manifest, as sent
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_submissions_agent_task", "agent_id", "task"),)


class Finding(Base):
    __tablename__ = "findings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    type: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    task: Mapped[str | None] = mapped_column(String(100), nullable=True)
    metrics: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    snapshot_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), nullable=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class FindingTerm(Base):
    """Search index: one row per distinct normalised word of a finding (see `aar.server.search`)."""

    __tablename__ = "finding_terms"
    term: Mapped[str] = mapped_column(String(64), primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), primary_key=True)


class Recheck(Base):
    """One overseer re-check run of a subject (a result finding or a baseline), scored by the server."""

    __tablename__ = "rechecks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id"), nullable=True)
    baseline: Mapped[str | None] = mapped_column(String(100), nullable=True)
    subject_task: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    task: Mapped[str] = mapped_column(String(100))  # the task the run was scored on
    draw: Mapped[str] = mapped_column(String(16))
    seed: Mapped[int] = mapped_column(Integer)
    n: Mapped[int | None] = mapped_column(Integer, nullable=True)
    accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    pgr: Mapped[float | None] = mapped_column(Float, nullable=True)
    agreement: Mapped[float | None] = mapped_column(Float, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    manifest: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    predictions_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    predictions_packed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_rechecks_finding", "finding_id"),
        Index("ix_rechecks_baseline", "baseline", "subject_task"),
    )


class Verification(Base):
    """The server's judgment of a subject from its re-checks (the latest close replaces earlier ones)."""

    __tablename__ = "verifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id"), nullable=True)
    baseline: Mapped[str | None] = mapped_column(String(100), nullable=True)
    task: Mapped[str | None] = mapped_column(String(100), nullable=True)  # the subject's task
    status: Mapped[str] = mapped_column(String(16))
    verified_pgr: Mapped[float | None] = mapped_column(Float, nullable=True)
    verified_pgr_se: Mapped[float | None] = mapped_column(Float, nullable=True)
    verified_accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    reproduce_agreement: Mapped[float | None] = mapped_column(Float, nullable=True)
    ablation_pgr: Mapped[float | None] = mapped_column(Float, nullable=True)
    blank_strong_pgr: Mapped[float | None] = mapped_column(Float, nullable=True)
    blank_strong_accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    generalization: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    flags: Mapped[list | None] = mapped_column(JSON, nullable=True)
    labels: Mapped[list | None] = mapped_column(JSON, nullable=True)
    details: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    runs: Mapped[list | None] = mapped_column(JSON, nullable=True)
    screened: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class AgentFlag(Base):
    """A flag the server's probing detector raised against an agent (one row per agent, flag and task)."""

    __tablename__ = "agent_flags"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    flag: Mapped[str] = mapped_column(String(32))
    task: Mapped[str] = mapped_column(String(100))
    details: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("agent_id", "flag", "task", name="uq_agent_flags"),)
