"""SQLAlchemy 2 models. The schema itself is created by the Alembic migrations in `migrations/`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
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
    day: Mapped[str] = mapped_column(String(10))  # UTC date, for budgets
    created_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_submissions_budget", "agent_id", "task", "day"),)


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


class Verification(Base):
    __tablename__ = "verifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"))
    status: Mapped[str] = mapped_column(String(16))
    verified_pgr: Mapped[float | None] = mapped_column(Float, nullable=True)
    verified_pgr_se: Mapped[float | None] = mapped_column(Float, nullable=True)
    reproduce_agreement: Mapped[float | None] = mapped_column(Float, nullable=True)
    ablation_pgr: Mapped[float | None] = mapped_column(Float, nullable=True)
    generalization: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    flags: Mapped[list | None] = mapped_column(JSON, nullable=True)
    details: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
