"""Verification records: subjects, re-check storage, closing (the rules are in `verdict.py`), rows.

A subject is a result finding (`{"finding_id": N}`) or a baseline idea on a task
(`{"baseline": name, "task": task}`). Closing judges the subject's recorded re-checks and replaces its
verification row (the id grows, so `since` pollers see the new one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from fastapi import HTTPException
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from aar.server.models import Agent, AgentFlag, Finding, Recheck, Snapshot, Submission, Verification
from aar.server.public_figures import round_figure
from aar.server.routes.common import NAME_RE, iso
from aar.server.scoring import unpack_array
from aar.server.subsets import heldout_subsets
from aar.server.verdict import Facts, Run, judge
from aar.tasks.grade import beyond_strong

KINDS = ("reproduce", "heldout", "shuffled_weak", "blank_strong", "generalization")


@dataclass(frozen=True)
class Subject:
    finding_id: int | None = None
    baseline: str | None = None
    task: str | None = None  # a baseline's task (for findings: filled in from the finding)

    def where(self, model):  # noqa: ANN001, ANN201 - a model class with finding_id/baseline columns
        if self.finding_id is not None:
            return model.finding_id == self.finding_id
        task_col = model.subject_task if model is Recheck else model.task
        return (model.baseline == self.baseline) & (task_col == self.task)

    def as_dict(self) -> dict:
        if self.finding_id is not None:
            return {"finding_id": self.finding_id}
        return {"baseline": self.baseline, "task": self.task}


def parse_subject(raw: object) -> Subject:
    if not isinstance(raw, dict):
        raise HTTPException(422, '\'subject\' must be {"finding_id": N} or {"baseline": name, "task": task}')
    if set(raw) == {"finding_id"}:
        fid = raw["finding_id"]
        if type(fid) is not int or not 0 < fid < 2**62:
            raise HTTPException(422, "'subject.finding_id' must be a positive integer")
        return Subject(finding_id=fid)
    if set(raw) == {"baseline", "task"}:
        name, task = raw["baseline"], raw["task"]
        if not isinstance(name, str) or not NAME_RE.match(name):
            raise HTTPException(
                422, "'subject.baseline' must be 1-100 characters of letters, digits, '_', '.', '-'"
            )
        if not isinstance(task, str) or not 0 < len(task) <= 100:
            raise HTTPException(422, "'subject.task' must be a task name")
        return Subject(baseline=name, task=task)
    raise HTTPException(422, '\'subject\' must be {"finding_id": N} or {"baseline": name, "task": task}')


@dataclass(frozen=True)
class FindingSubject:
    finding: Finding
    task: str
    submission: Submission | None


def resolve_finding(s: Session, fid: int) -> FindingSubject:
    f = s.get(Finding, fid)
    if f is None:
        raise HTTPException(404, f"no finding {fid}")
    if f.type != "result":
        raise HTTPException(422, f"finding {fid} is a {f.type!r}: only results are verified")
    sub = s.get(Submission, f.submission_id) if f.submission_id is not None else None
    task = f.task or (sub.task if sub is not None else None)
    if task is None:
        raise HTTPException(422, f"finding {fid} names no task")
    return FindingSubject(f, task, sub)


def agent_probing(s: Session, agent_id: int) -> bool:
    return s.scalar(select(AgentFlag.id).where(AgentFlag.agent_id == agent_id).limit(1)) is not None


def foreign_snapshot(s: Session, f: Finding) -> bool:
    if f.snapshot_id is None:
        return False
    snap = s.get(Snapshot, f.snapshot_id)
    return snap is not None and snap.agent_id != f.agent_id


def run_of(r: Recheck, state=None) -> Run:  # noqa: ANN001
    """A recorded re-check for the judgment; held-out runs also get how they do where the strong model
    cannot know the answer (from the task's private ceiling predictions, when prepared)."""
    hard: dict = {}
    draw = state.tasks.get(r.task).draw(r.draw) if state is not None and state.tasks.get(r.task) else None
    if r.kind == "heldout" and r.predictions_packed is not None and draw is not None and draw.ceiling:
        mode = (r.manifest or {}).get("mode") or draw.meta.get("reference_mode", "probe")
        ceiling = draw.ceiling.get(mode)
        if ceiling is not None:
            preds = unpack_array(r.predictions_packed, r.n)
            right, n, ref = beyond_strong(np.asarray(preds), draw.labels["test"], ceiling, draw.weak)
            hard = {"hard_right": right, "hard_n": n, "hard_reference": ref}
    return Run(
        r.kind, r.task, r.draw, r.seed, r.accuracy, r.pgr, r.agreement, r.error, r.manifest, r.n, **hard
    )


def run_row(r: Recheck) -> dict:
    return {
        "recheck_id": r.id,
        "kind": r.kind,
        "task": r.task,
        "draw": r.draw,
        "seed": r.seed,
        "n": r.n,
        "accuracy": r.accuracy,
        "pgr": r.pgr,
        "agreement": r.agreement,
        "error": r.error,
        "seconds": r.seconds,
        "manifest": r.manifest,
        "created_at": iso(r.created_at),
    }


def close(state, s: Session, subject: Subject, screened: bool, note: str | None) -> Verification:  # noqa: ANN001
    """Judge `subject` from its recorded re-checks and replace its verification; return the new row."""
    v = judgment(state, s, subject, screened, note)
    s.add(v)
    s.flush()  # inserted before the old row goes, so the id grows (SQLite reuses a deleted top id)
    s.execute(delete(Verification).where(subject.where(Verification), Verification.id != v.id))
    return v


def judgment(state, s: Session, subject: Subject, screened: bool, note: str | None) -> Verification:  # noqa: ANN001
    """The verification `subject`'s recorded re-checks get by the fixed rules, not stored (`close` stores it;
    the overseer asks for one unstored while a check still waits for tasks being built)."""
    from aar.server.state import utcnow

    facts_kw: dict = {}
    if subject.finding_id is not None:
        fs = resolve_finding(s, subject.finding_id)
        subject_task = fs.task
        facts_kw = {
            "is_finding": True,
            "submission_manifest": fs.submission.manifest if fs.submission is not None else None,
            "agent_probing": agent_probing(s, fs.finding.agent_id),
            "foreign_snapshot": foreign_snapshot(s, fs.finding),
        }
    else:
        assert subject.task is not None
        if state.tasks.get(subject.task) is None:
            raise HTTPException(404, f"unknown task {subject.task!r}")
        subject_task = subject.task
        facts_kw = {"is_finding": False}
        subject = Subject(baseline=subject.baseline, task=subject.task)
    rechecks = s.scalars(select(Recheck).where(subject.where(Recheck)).order_by(Recheck.id)).all()

    def base(task: str, draw: str):  # noqa: ANN202
        t = state.tasks.get(task)
        d = t.draw(draw) if t is not None else None
        return (d.base, d.n_test) if d is not None else None

    j = judge(
        [run_of(r, state) for r in rechecks],
        Facts(base=base, subject_task=subject_task, screened=screened, **facts_kw),
    )
    subsets = heldout_subsets(state.tasks, rechecks)
    if subsets:
        j.details["subsets"] = subsets
    v = Verification(
        finding_id=subject.finding_id,
        baseline=subject.baseline,
        task=subject_task,
        status=j.status,
        verified_pgr=j.verified_pgr,
        verified_pgr_se=j.verified_pgr_se,
        verified_accuracy=j.verified_accuracy,
        reproduce_agreement=j.reproduce_agreement,
        ablation_pgr=j.ablation_pgr,
        blank_strong_pgr=j.blank_strong_pgr,
        blank_strong_accuracy=j.blank_strong_accuracy,
        generalization=j.generalization,
        flags=j.flags,
        labels=j.labels,
        details=j.details,
        runs=[run_row(r) for r in rechecks],
        screened=screened,
        note=note,
        created_at=utcnow(),
    )
    return v


def reclose_agent(state, agent_id: int) -> None:  # noqa: ANN001
    """Re-judge every closed verification of this agent's results (a new agent flag changes them)."""
    with state.sessions.begin() as s:
        rows = s.execute(
            select(Verification.finding_id, Verification.screened, Verification.note)
            .join(Finding, Finding.id == Verification.finding_id)
            .where(Finding.agent_id == agent_id)
        ).all()
        closed = [close(state, s, Subject(finding_id=fid), screened, note) for fid, screened, note in rows]
        out = [(verification_row(v, True), verification_row(v, False)) for v in closed]
    for admin_row, agent_row in out:
        state.broker.publish("verification", admin_row, agent_view=agent_row)


def verification_row(v: Verification, admin: bool) -> dict:
    if not admin:  # no per-run or unrounded figure
        return {
            "id": v.id,
            "finding_id": v.finding_id,
            "baseline": v.baseline,
            "task": v.task,
            "status": v.status,
            "verified_pgr": round_figure(v.verified_pgr),
            "flags": v.flags or [],
            "labels": v.labels or [],
            "created_at": iso(v.created_at),
        }
    return {
        "id": v.id,
        "finding_id": v.finding_id,
        "baseline": v.baseline,
        "task": v.task,
        "subject": Subject(v.finding_id, v.baseline, v.task if v.baseline else None).as_dict(),
        "status": v.status,
        "verified_pgr": v.verified_pgr,
        "verified_pgr_se": v.verified_pgr_se,
        "verified_accuracy": v.verified_accuracy,
        "reproduce_agreement": v.reproduce_agreement,
        "ablation_pgr": v.ablation_pgr,
        "blank_strong_pgr": v.blank_strong_pgr,
        "blank_strong_accuracy": v.blank_strong_accuracy,
        "generalization": v.generalization or {},
        "flags": v.flags or [],
        "labels": v.labels or [],
        "screened": v.screened,
        "note": v.note,
        "details": v.details or {},
        "runs": v.runs or [],
        "created_at": iso(v.created_at),
    }


def agent_names(s: Session) -> dict[int, str]:
    return dict(s.execute(select(Agent.id, Agent.name)).all())
