"""The overseer's durable queue and memory: one JSON file in the run dir, written atomically.

Jobs move queued -> running -> done | failed, or -> deferred -> queued (checked as far as the tasks built
allow, resumed when the build is done). On start, jobs left `running` by a killed process go back
to `queued`, so every claimed result is verified exactly once across restarts.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

EMPTY: dict = {
    "version": 1,
    "last_finding_id": 0,
    "jobs": {},
    "probing": {},
    "flagged_agents": {},
    "baselines": {},
    "posted_flags": [],
}


class State:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.lock = threading.RLock()
        self.data: dict = json.loads(json.dumps(EMPTY))
        if self.path.exists():
            self.data.update(json.loads(self.path.read_text()))
        for job in self.data["jobs"].values():
            if job["status"] == "running":
                job["status"] = "queued"
        self.save()

    def save(self) -> None:
        with self.lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True))
            os.replace(tmp, self.path)

    def enqueue(self, finding: dict, claimed_pgr: float | None = None) -> bool:
        """Queue a result; `claimed_pgr` is the server-recorded public PGR of the submission it cites (never
        a number the agent wrote)."""
        with self.lock:
            key = str(finding["id"])
            self.data["last_finding_id"] = max(self.data["last_finding_id"], int(finding["id"]))
            if key in self.data["jobs"]:
                return False
            self.data["jobs"][key] = {
                "finding_id": int(finding["id"]),
                "agent": finding.get("agent"),
                "task": finding.get("task"),
                "status": "queued",
                "attempts": 0,
                "queued_at": time.time(),
                "result": None,
                "claimed_pgr": float(claimed_pgr) if isinstance(claimed_pgr, int | float) else None,
            }
            self.save()
            return True

    def take(self, free_below: float | None = None) -> dict | None:
        """The queued job with the highest server-recorded PGR (oldest first among equals), marked running.

        The top of the leaderboard is what most needs checking, so it is verified first. Before it come
        the jobs whose PGR is under `free_below` (the public screen's bar: they are screened out with no
        run, a second each), so that the ones left when a grace period ends are all ones that need runs."""

        def order(j: dict) -> tuple:
            known = j.get("claimed_pgr") is not None  # a claim citing no scored submission needs a run
            pgr = j["claimed_pgr"] if known else -1e9
            free = known and free_below is not None and pgr < free_below and j.get("provisional_pgr") is None
            # a resumed claim goes by its held-out mean (the best of them first: it raises the bar)
            held = j.get("provisional_pgr")
            return (not free, -(held if isinstance(held, int | float) else pgr), j["finding_id"])

        with self.lock:
            queued = sorted((j for j in self.data["jobs"].values() if j["status"] == "queued"), key=order)
            if not queued:
                return None
            job = queued[0]
            job["status"], job["attempts"], job["started_at"] = "running", job["attempts"] + 1, time.time()
            self.save()
            return dict(job)

    def defer(self, finding_id: int) -> None:
        """A job checked as far as the tasks built allow: it waits (`deferred`) until `requeue_deferred`."""
        with self.lock:
            self.data["jobs"][str(finding_id)].update(status="deferred", deferred_at=time.time())
            self.save()

    def requeue_deferred(self, built: bool = True) -> int:
        """Deferred jobs back to the queue; returns how many. A job deferred behind another (`behind`: a
        finding id) goes back once that one is done; the others once the build is done (`built`). A
        resumed job is retried anew: its attempts start again."""
        with self.lock:
            jobs = self.data["jobs"]

            def ready(j: dict) -> bool:
                ahead = jobs.get(str(j.get("behind"))) if j.get("behind") is not None else None
                if ahead is None:
                    return built
                if ahead["status"] in ("done", "failed"):
                    return True
                # ahead still open: wait for it, unless it waits behind a claim too (two claims checked
                # at once can each fall below the other's mean): then both resume when the build is done
                return built and ahead.get("behind") is not None

            due = [j for j in jobs.values() if j["status"] == "deferred" and ready(j)]
            for j in due:
                j.update(status="queued", attempts=0, behind=None)
            jobs = due
            if jobs:
                self.save()
            return len(jobs)

    def finish(self, finding_id: int, status: str, result: dict | None) -> None:
        with self.lock:
            job = self.data["jobs"][str(finding_id)]
            job.update(status=status, result=result, finished_at=time.time())
            self.save()

    def counts(self) -> dict[str, int]:
        with self.lock:
            out: dict[str, int] = {}
            for j in self.data["jobs"].values():
                out[j["status"]] = out.get(j["status"], 0) + 1
            return out


def overseer_idle(run_dir: Path, last_result_id: int = 0) -> bool:
    """Nothing queued or running in the run's overseer queue, every requested baseline verified, and (with
    `last_result_id`, the newest result finding on the server) every result up to it taken in."""
    path = Path(run_dir) / "overseer" / "state.json"
    if not path.exists():
        return False
    state = json.loads(path.read_text())
    if int(state.get("last_finding_id", 0)) < last_result_id:
        return False
    busy = any(j["status"] in ("queued", "running", "deferred") for j in state.get("jobs", {}).values())
    return not busy and all(b in state.get("baselines", {}) for b in state.get("baselines_wanted", []))
