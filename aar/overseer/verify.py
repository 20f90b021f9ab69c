"""The checks on one idea: reproduce, held-out runs over seeds, and the counterfactual runs.

The overseer holds no labels: every run's test predictions go to the server (`POST /api/admin/rechecks`),
which scores them with the one grader; `POST /api/admin/verifications/close` then judges the subject by
the server's fixed rules (docs/contracts.md, "The grader and the verification record").

Every run is staged the same way (`aar.overseer.rerun`): the held-out run, the run with the weak labels
shuffled across items (`shuffled_weak`) and the run with the strong model replaced by a same-shape model
that knows nothing of the task (`blank_strong`) see the same paths, file names and metadata keys.

A claim is screened first (its public PGR, then one held-out seed); reproducing it and the full check (the
other seeds, both counterfactuals, generalization) run only for claims that can still reach the top. Each
run depends only on the snapshot, the draw and the seed, so runs are kept per snapshot and shared by every
finding that cites it (`Plan.shared`); the server compares a shared reproduce run with each finding's own
submission.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aar.overseer.api import ApiError, OverseerApi
from aar.overseer.kept_runs import KeptRuns
from aar.overseer.rerun import RerunError, Runner


@dataclass(frozen=True)
class VerifyConfig:
    seeds: tuple[int, ...] | None = None  # held-out seeds of the full check (None: the task's, at most 3)
    generalization: bool = True
    ablation: bool = True  # the shuffled-weak-labels run
    blank_strong: bool = True  # the knowledge-removed strong model run
    screen: bool = True  # one held-out seed first; the rest only for claims that can still reach the top
    screen_margin: float = 0.05  # a screened claim is within this PGR of the best verified one to go on
    # a claim whose public PGR (main draw, the server's record) is further than this below the best verified
    # one is screened out unrun: a method's held-out PGR is rarely far above its public one
    public_margin: float = 0.15


@dataclass
class Plan:
    """One subject's re-checks: where to run them and the runs already recorded for its snapshot."""

    api: OverseerApi
    runner: Runner
    subject: dict
    idea: Path
    tasks_root: Path
    task: str
    work: Path
    blank_model: Callable[[str], str | None] = lambda task: None  # task -> host dir of its blank strong
    shared: dict[str, dict] = field(default_factory=dict)  # label -> recorded run (this snapshot's)
    notes: list[str] = field(default_factory=list)  # checks not run, and why (joined into the close note)
    node: str | None = None  # Ray node of the claiming agent when it claimed (its re-runs go there)
    kept: KeptRuns | None = None  # a baseline's runs kept across runs (never a claim's)
    reused: int = 0  # runs taken from `kept`
    # the server's answers to this subject's re-checks already recorded, by (kind, task, draw, seed): a check
    # resumed once the held-out tasks are built, or retried, posts no run twice (it would count twice)
    posted: dict[tuple, dict] = field(default_factory=dict)

    def load_posted(self, rows: list[dict]) -> None:
        for r in rows:
            self.posted[(r["kind"], r["task"], r["draw"], int(r["seed"]))] = r

    def heldout_rows(self) -> list[dict]:
        """The held-out runs the server recorded for this subject so far (main task), failed ones too."""
        return [
            r for (kind, task, _, _), r in sorted(self.posted.items())
            if kind == "heldout" and task == self.task
        ]

    def heldout_pgrs(self) -> list[float]:
        """The held-out PGRs the server recorded for this subject so far (main task)."""
        return [float(r["pgr"]) for r in self.heldout_rows() if r.get("pgr") is not None]

    def note(self, first: str | None = None) -> str | None:
        kept = f"{self.reused} run(s) reused from an earlier run's identical check" if self.reused else None
        parts = [p for p in [first, *self.notes, kept] if p]
        return "; ".join(parts) if parts else None

    def data(self, task: str, draw: str) -> Path:
        return self.tasks_root / task / draw / "public"

    def record(
        self,
        kind: str,
        task: str,
        draw: str,
        seed: int,
        label: str,
        *,
        weak: dict[int, list[float]] | None = None,
        models: dict[str, str] | None = None,
    ) -> dict:
        """Run once (or reuse this snapshot's run) and hand the server the predictions; its answer."""
        done = self.posted.get((kind, task, draw, seed))
        if done is not None:
            return done
        run = self.shared.get(label)
        if run is not None and "error" in run:
            run = None  # a failed run of this snapshot (for an earlier finding) is tried again, not inherited
        key = None
        if run is None and self.kept is not None and weak is None:
            what = {"kind": kind, "task": task, "draw": draw, "seed": seed, "label": label, "models": models}
            key = self.kept.key(self.idea, self.data(task, draw), what | runner_settings(self.runner))
            run = self.kept.get(key)
            if run is not None:
                self.reused += 1
                run = {**run, "seconds": None}  # not run (nor timed) in this run
                self.shared[label] = run
        if run is None:
            try:
                out = self.runner.run(
                    self.idea, self.data(task, draw), seed, self.work, label, weak=weak, models=models,
                    node=self.node,
                )
                run = {"predictions": list(out["test"]), "manifest": out.get("manifest"),
                       "seconds": out.get("seconds")}
            except RerunError as e:
                run = {"error": str(e), "seconds": e.seconds}
            # a reproduce run too: the server compares it with each finding's own submission
            self.shared[label] = run
            if key is not None and self.kept is not None:
                self.kept.put(key, run)  # (a failure is not kept: KeptRuns.put)
        answer = self._post(run, dict(subject=self.subject, kind=kind, task=task, draw=draw, seed=seed))
        self.posted[(kind, task, draw, seed)] = answer
        return answer

    def _post(self, run: dict, fields: dict) -> dict:
        fields["seconds"] = run.get("seconds")  # the run's wall time, for the report's cost of the check
        if "error" in run:
            return self.api.post_recheck(**fields, error=run["error"])
        try:
            return self.api.post_recheck(**fields, predictions=run["predictions"], manifest=run["manifest"])
        except ApiError as e:
            if e.status != 422:
                raise
            rejected = e
        if run["manifest"] is not None:
            try:
                return self.api.post_recheck(**fields, predictions=run["predictions"])  # malformed manifest
            except ApiError as e:
                if e.status != 422:
                    raise
                rejected = e
        # predictions the server will not score (wrong length, not 0/1): the run failed, and is recorded so
        return self.api.post_recheck(**fields, error=f"predictions rejected by the server: {rejected}"[:2000])


def runner_settings(runner: object) -> dict:
    """What of the runner a kept run depends on: sandbox kind and threads per run."""
    queue = getattr(runner, "queue", None)
    return {"sandbox": getattr(runner, "sandbox", None), "threads": getattr(queue, "threads", None)}


def heldout_seeds(plan: Plan, cfg: VerifyConfig) -> list[int]:
    meta = json.loads((plan.data(plan.task, "heldout") / "meta.json").read_text())
    return list(cfg.seeds or meta.get("seeds", [0])[:3])


def reproduce(plan: Plan, seed: int) -> bool:
    """Re-run on the main draw with the submission's seed; True when it ran and agrees >= 99%."""
    r = plan.record("reproduce", plan.task, "main", seed, f"reproduce-s{seed}")
    return r.get("agreement") is not None and r["agreement"] >= 0.99


def screen(plan: Plan, cfg: VerifyConfig) -> float | None:
    """The first held-out seed: its PGR (None when the idea does not run on held-out data)."""
    s = heldout_seeds(plan, cfg)[0]
    return plan.record("heldout", plan.task, "heldout", s, f"heldout-s{s}").get("pgr")


def shuffled_weak(heldout: Path, rng: random.Random) -> dict[int, list[float]]:
    """The held-out weak soft labels of every seed, permuted across items (marginals kept, the link between
    an item and its weak label destroyed). The permutation is drawn fresh: no idea can undo it."""
    out = {}
    for path in sorted((heldout / "weak").glob("seed*.json")):
        doc = json.loads(path.read_text())
        probs = list(doc["train_unlabel"])
        rng.shuffle(probs)
        out[int(doc["seed"])] = probs
    return out


def full_check(plan: Plan, cfg: VerifyConfig, other_tasks: list[str]) -> None:
    """The remaining held-out seeds, the counterfactual runs and the generalization runs."""
    main_task_checks(plan, cfg)
    later_checks(plan, cfg, other_tasks)


def main_task_checks(plan: Plan, cfg: VerifyConfig) -> None:
    """The part of the full check on the claim's own task's held-out draw: the other seeds and the
    shuffled-weak run (what can run while the other tasks and the blank model are still being built)."""
    seeds = heldout_seeds(plan, cfg)
    for s in seeds[1:]:
        plan.record("heldout", plan.task, "heldout", s, f"heldout-s{s}")
    if cfg.ablation:
        s0 = seeds[0]
        if ("shuffled_weak", plan.task, "heldout", s0) not in plan.posted:  # the permutation is drawn fresh
            rng = random.Random(random.SystemRandom().random())
            weak = shuffled_weak(plan.data(plan.task, "heldout"), rng)
            plan.record("shuffled_weak", plan.task, "heldout", s0, "shuffled-weak", weak=weak)


def later_checks(plan: Plan, cfg: VerifyConfig, other_tasks: list[str]) -> None:
    """The knowledge-removed strong model's run and the generalization runs (they need the blank model and
    the other tasks)."""
    s0 = heldout_seeds(plan, cfg)[0]
    if cfg.blank_strong:
        blank = plan.blank_model(plan.task)
        if blank is not None:
            plan.record("blank_strong", plan.task, "heldout", s0, "blank-strong", models={"strong": blank})
        else:
            plan.notes.append(
                f"blank_strong not run: task {plan.task!r} has no knowledge-removed twin of its strong model "
                "(only zoo models have one; an HF model's is not built), so the `solver` check was skipped"
            )
    if cfg.generalization:
        for other in other_tasks:
            if (plan.data(other, "heldout") / "meta.json").is_file():
                plan.record("generalization", other, "heldout", s0, f"gen-{other}")
