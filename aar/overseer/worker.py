"""The overseer loop: poll `result` findings, verify each in fresh sandboxes, announce flags.

Order: the queue is sorted by the server-recorded public PGR of the submission a result cites (never a
number the agent wrote). Each claim is screened first (on that public PGR, then on one held-out seed) and
reproduced and fully checked only if it can still reach the top of the verified ranking; a finding whose
snapshot runs like one already checked (`aar.methods.run_key`: the same files but notes, a recipe's name
aside) reuses its runs (a reproduce run on another seed is new), and the server compares the shared
reproduce run with each finding's own submission. While a build still makes tasks, a claim is checked as
far as its own task allows and waits (`deferred`) for the rest (`Overseer._check`).
Baselines go through the same path.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from aar import methods
from aar.cluster.costs import node_id_at
from aar.overseer.api import ApiError, OverseerApi
from aar.overseer.kept_runs import KeptRuns
from aar.overseer.rerun import Runner
from aar.overseer.state import State
from aar.overseer.verify import (
    Plan,
    VerifyConfig,
    full_check,
    heldout_seeds,
    later_checks,
    main_task_checks,
    reproduce,
    screen,
)
from aar.tasks.readiness import pending_tasks, task_ready
from aar.times import to_seconds
from aarlab.w2s.baselines import BASELINES_DIR

log = logging.getLogger("aar.overseer")


@dataclass
class OverseerConfig:
    run_dir: Path
    tasks_root: Path
    concurrency: int = 1
    poll_interval: float = 2.0
    max_attempts: int = 2
    baselines: list[str] = field(default_factory=list)  # baseline ideas to verify the same way
    baseline_task: str = "math"
    verify: VerifyConfig = field(default_factory=VerifyConfig)
    baseline_runs: Path | None = None  # keep baselines' re-runs here across runs (`aar.overseer.kept_runs`)


def all_tasks(tasks_root: Path) -> list[str]:
    """Tasks whose both draws are built (a task still being built is left out, not measured half-made)."""
    names = sorted(p.parents[2].name for p in Path(tasks_root).glob("*/main/public/meta.json"))
    return [t for t in names if task_ready(tasks_root, t)]


def run_key(task: str, idea: Path) -> str:
    """The key a snapshot's runs are kept under (claims and baselines alike): task and `methods.run_key`."""
    return f"{task}-{methods.run_key(idea)}"


def idea_root(folder: Path) -> Path:
    """The folder holding run.py inside an unpacked snapshot (top level or a single sub-folder)."""
    if (folder / "run.py").is_file():
        return folder
    subs = [p for p in folder.iterdir() if p.is_dir()]
    if len(subs) == 1 and (subs[0] / "run.py").is_file():
        return subs[0]
    return folder


def blank_model_for(tasks_root: Path) -> Callable[[str], str | None]:
    """task -> host dir of its knowledge-removed strong model: only a zoo task's own strong model has one
    (None for HF models, e.g. imported tasks, even one named like a zoo task)."""
    from aar.tasks.zoo.blank import blank_dir, blank_ready
    from aar.tasks.zoo.build import model_dir

    def lookup(task: str) -> str | None:
        meta = json.loads((Path(tasks_root) / task / "heldout" / "public" / "meta.json").read_text())
        size = meta.get("size")
        if not size or not blank_ready(task, size):
            return None
        strong = (meta.get("models") or {}).get("strong")
        if strong is None or Path(strong).resolve() != model_dir(task, "strong", size).resolve():
            return None
        return str(blank_dir(task, size))

    return lookup


class Overseer:
    def __init__(self, api: OverseerApi, cfg: OverseerConfig, runner: Runner):
        self.api, self.cfg, self.runner = api, cfg, runner
        self.home = Path(cfg.run_dir) / "overseer"
        self.state = State(self.home / "state.json")
        self._probe_lock = threading.Lock()
        self._claim_locks: dict[str, threading.Lock] = {}
        self.blank_model = blank_model_for(cfg.tasks_root)
        runner.on_run = self._account
        self.state.data["baselines_wanted"] = list(cfg.baselines)
        self.state.save()

    def _account(self, run: dict) -> None:
        """Totals (overall and per node) of the re-runs: wall seconds, CPU-seconds as measured (the
        sandboxed process tree's user + system time), GPU-seconds held; every run also goes to runs.jsonl."""
        with self.state.lock:
            acc = self.state.data.setdefault("compute", {"runs": 0, "seconds": 0.0, "cpu_seconds": 0.0})
            node = str(run.get("node") or "?")
            per = acc.setdefault("nodes", {}).setdefault(
                node, {"runs": 0, "seconds": 0.0, "cpu_seconds": 0.0, "gpu_seconds": 0.0}
            )
            for a in (acc, per):
                a["runs"] += 1
                a["seconds"] += float(run["seconds"])
                a["cpu_seconds"] += float(run.get("cpu_seconds") or 0.0)
                if run.get("cpu_seconds") is None:
                    a["unmeasured_runs"] = a.get("unmeasured_runs", 0) + 1
            per["gpu_seconds"] += float(run.get("gpu_seconds") or 0.0)
            self.state.save()
            self.home.mkdir(parents=True, exist_ok=True)
            with open(self.home / "runs.jsonl", "a") as f:
                f.write(json.dumps({"t": time.time(), "agent": "overseer", **run}) + "\n")

    # -- intake ---------------------------------------------------------------------------------

    def poll(self) -> int:
        """Queue new result findings (ordered by the server-recorded PGR of the submission they cite) and
        announce the server's new probing flags; returns how many were queued."""
        new = self.api.findings(since=int(self.state.data["last_finding_id"]), type="result")
        n = 0
        for f in new:
            sub = self.api.submission(int(f["submission_id"])) if f.get("submission_id") else None
            n += self.state.enqueue(f, claimed_pgr=(sub or {}).get("pgr"))
        self.detect_probing()
        return n

    def detect_probing(self) -> list[str]:
        """The server's probing detector judges every submission; announce each newly flagged agent."""
        with self._probe_lock:
            newly = []
            for flag in self.api.probing_flags():
                agent, task = str(flag["agent"]), str(flag["task"])
                self.state.data["probing"][f"{agent}/{task}"] = flag
                flagged = self.state.data["flagged_agents"].get(agent, [])
                if "probing" not in flagged:
                    self.state.data["flagged_agents"][agent] = [*flagged, "probing"]
                    newly.append(agent)
                    self._announce_probing(agent, task, flag.get("signatures", []))
            self.state.save()
            return newly

    def _announce_probing(self, agent: str, task: str, signatures: list[str]) -> None:
        body = (
            f"{agent}'s submissions on `{task}` vary their predictions the way label-probing designs do "
            f"(server probing detector: {', '.join(signatures)}). Their results are flagged `probing` and "
            f"left off the verified ranking."
        )
        self.api.post_insight(
            title=f"Flag: probing by {agent}",
            body=body,
            task=task,
            metrics={"signatures": float(len(signatures))},
        )

    # -- the runs of a snapshot, shared by the findings that cite it ------------------------------

    def _claim_file(self, key: str) -> Path:
        return self.home / "claims" / f"{key}.json"

    def _shared_runs(self, key: str) -> dict[str, dict]:
        path = self._claim_file(key)
        return json.loads(path.read_text()) if path.exists() else {}

    def _save_runs(self, key: str, runs: dict[str, dict]) -> None:
        path = self._claim_file(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(runs))
        tmp.replace(path)

    def best_verified(self) -> float | None:
        """The best verified PGR so far (claims and baselines): what a screened claim must come near."""
        with self.state.lock:
            pgrs = [
                j["result"].get("verified_pgr")
                for j in self.state.data["jobs"].values()
                if j.get("result") and j["result"].get("status") == "verified"
            ]
            pgrs += [
                b.get("verified_pgr")
                for b in self.state.data["baselines"].values()
                if b.get("status") == "verified"
            ]
        pgrs = [p for p in pgrs if isinstance(p, int | float)]
        return max(pgrs) if pgrs else None

    def _free_below(self) -> float | None:
        """The public PGR under which a claim is settled with no run (`_check`), None when unscreened."""
        best, _ = self.bar()
        return best - self.cfg.verify.public_margin if self.cfg.verify.screen and best is not None else None

    def _check(self, plan: Plan, key: str, seed: int | None, public_pgr: float | None = None) -> dict | None:
        """Screen, and for a claim that can still reach the top reproduce it (when a submission is cited) and
        run the full check; close the verification on the server.

        Screening comes first and costs at most one run: a claim whose server-recorded public PGR is far
        below the best so far is screened out without a run, else one held-out seed decides. Only a claim
        that passes is reproduced, so a screened claim is never ranked whether it reproduces or not.

        While a build still has tasks under way, a claim that passes gets the checks its own task allows
        (reproduce, every held-out seed, shuffled weak labels) and waits (returns None: `deferred`) for the
        blank model and the generalization runs; what the server would judge it so far makes the bar the
        next claims are screened against. Resumed, it is screened again on the mean of its held-out seeds."""
        cfg = self.cfg.verify
        with self._claim_locks.setdefault(key, threading.Lock()):
            plan.shared.update(self._shared_runs(key))
            # a method already fully checked (another finding, or a baseline, with its runs): its runs are
            # all there, so this finding is judged on the same held-out mean (not on its public PGR or one
            # seed) and gets the same verification for one reproduce run at most
            checked = key in self.state.data.get("complete_keys", [])
            best, behind = self.bar(exclude=plan.subject.get("finding_id"))
            first_pass = not plan.posted
            low = public_pgr is not None and best is not None and public_pgr < best - cfg.public_margin
            if first_pass and cfg.screen and low and not checked:
                if behind is not None:  # below a claim not closed yet: wait for it, no run
                    self._wait_behind(plan, behind)
                    return None
                note = (
                    f"screened: public PGR {public_pgr:.3f} (the server's record of its submission) below "
                    f"the best verified {best:.3f} by more than {cfg.public_margin}; not re-run"
                )
                return self.api.close_verification(plan.subject, screened=True, note=note)
            screened, note = False, None
            try:
                pgr0 = screen(plan, cfg)
                if checked and pgr0 is not None:
                    main_task_checks(plan, cfg)  # cached runs: its mean decides, as its twin's
                value, what = pgr0, "held-out PGR unknown"
                held = plan.heldout_pgrs()
                # every seed in (resumed, or checked): the server's figure, the mean of those that ran
                if held and len(plan.heldout_rows()) >= len(heldout_seeds(plan, cfg)) > 1:
                    value = sum(held) / len(held)
                    what = f"held-out PGR {value:.3f} (mean of {len(held)} seeds)"
                elif pgr0 is not None:
                    what = f"held-out PGR {pgr0:.3f} on one seed"
                best, behind = self.bar(exclude=plan.subject.get("finding_id"))
                # a twin of a fully checked method (a baseline's, a verified claim's) is never screened
                low = not checked and value is not None and best is not None
                low = low and value < best - cfg.screen_margin
                if cfg.screen and low and behind is not None:
                    self._wait_behind(plan, behind)
                    return None
                if cfg.screen and low:
                    screened = True
                    note = (
                        f"screened: {what}, below the best verified {best:.3f} by more than "
                        f"{cfg.screen_margin}; not checked further"
                    )
                elif seed is not None and not reproduce(plan, seed):
                    note = "does not reproduce: not measured further"
                elif pgr0 is not None:
                    main_task_checks(plan, cfg)
                    building = bool(pending_tasks(self.cfg.tasks_root))
                    # a flag so far is final (no later run lifts it): closed now, else it waits for the build
                    if building and self._hold(plan) != "flagged":
                        return None
                    if not building:
                        others = [t for t in all_tasks(self.cfg.tasks_root) if t != plan.task]
                        later_checks(plan, cfg, others)
                        self._complete(key)
            finally:
                self._save_runs(key, plan.shared)
            return self.api.close_verification(plan.subject, screened=screened, note=plan.note(note))

    def _complete(self, key: str) -> None:
        """`key`'s runs hold a whole check: a later finding of the same method is not screened again."""
        with self.state.lock:
            done = self.state.data.setdefault("complete_keys", [])
            if key not in done:
                done.append(key)
                self.state.save()

    def _hold(self, plan: Plan) -> str:
        """Keep what the server would judge a claim waiting for the build (its PGR raises the screens' bar
        only when it would be verified so far); returns that status."""
        j = self.api.judge(plan.subject)
        fid = str(plan.subject["finding_id"])
        with self.state.lock:
            job = self.state.data["jobs"][fid]
            job["provisional_pgr"] = j.get("verified_pgr") if j.get("status") == "verified" else None
            self.state.save()
        return str(j.get("status"))

    def bar(self, exclude: int | None = None) -> tuple[float | None, int | None]:
        """The bar of the screens and whose it is: the best verified PGR (None: nobody's yet), or, when
        higher, the best held-out mean of a claim not closed yet with nothing so far against it (its
        finding id). A claim below a verified bar is screened out; below an open claim's it waits for that
        claim to close (`_wait_behind`), since that claim may yet be flagged. A claim that itself waits
        behind another is no bar (two claims checked at once could otherwise wait on each other)."""
        best = self.best_verified()
        with self.state.lock:
            flagged = self.state.data["flagged_agents"]
            waiting = [
                (j["provisional_pgr"], j["finding_id"]) for j in self.state.data["jobs"].values()
                if j["status"] in ("deferred", "running", "queued") and j.get("behind") is None
                and isinstance(j.get("provisional_pgr"), int | float)
                and j["finding_id"] != exclude and not flagged.get(str(j.get("agent")))
            ]
        top = max(waiting, default=None)
        if top is not None and (best is None or top[0] > best):
            return top[0], int(top[1])
        return best, None

    def _wait_behind(self, plan: Plan, fid: int) -> None:
        """Defer a claim until finding `fid` (the open claim whose held-out mean it falls below) is closed;
        it is then screened again, against what was verified."""
        with self.state.lock:
            self.state.data["jobs"][str(plan.subject["finding_id"])]["behind"] = fid
            self.state.save()

    # -- verification ---------------------------------------------------------------------------

    def process(self, job: dict) -> dict | None:
        fid = int(job["finding_id"])
        try:
            payload = self.verify_finding(fid)
        except Exception as e:  # noqa: BLE001 - any failure is recorded; the job is retried or failed
            log.exception("verifying finding %s failed", fid)
            if job["attempts"] < self.cfg.max_attempts:
                with self.state.lock:
                    self.state.data["jobs"][str(fid)]["status"] = "queued"
                    self.state.save()
                return None
            payload = {"finding_id": fid, "status": "failed", "details": {"error": repr(e)[:2000]}}
            try:
                # a check that did not finish is never verified on the runs it got (closed as screened)
                payload = self.api.close_verification(
                    {"finding_id": fid}, screened=True,
                    note=f"overseer error, the check did not finish: {repr(e)[:2000]}",
                )
            except ApiError:
                log.exception("could not record failure of %s", fid)
            self.state.finish(fid, "failed", payload)
            return payload
        if payload is None:  # checked as far as the tasks built allow; resumed when the build is done
            self.state.defer(fid)
            return None
        self.state.finish(fid, "done", payload)
        return payload

    def verify_finding(self, fid: int) -> dict | None:
        f = self.api.finding(fid)
        agent = str(f.get("agent"))
        subject = {"finding_id": fid}
        sub = self.api.submission(int(f["submission_id"])) if f.get("submission_id") is not None else None
        task = f.get("task") or (sub or {}).get("task")
        if "probing" in self.state.data["flagged_agents"].get(agent, []):
            payload = self.api.close_verification(subject, note="flagged before re-running: not measured")
        elif not f.get("snapshot_id") or not task:
            payload = self.api.close_verification(
                subject, note="the result names no snapshot (or task) to re-run"
            )
        else:
            # where the agent ran the cited submission (a finding can be posted later, after a restart)
            ran_at = to_seconds((sub or {}).get("created_at") or f.get("created_at") or time.time())
            work = self.home / "work" / f"f{fid}"
            if work.exists():
                shutil.rmtree(work)
            idea = idea_root(self.api.download_snapshot(str(f["snapshot_id"]), work / "idea"))
            plan = Plan(
                self.api,
                self.runner,
                subject,
                idea,
                Path(self.cfg.tasks_root),
                task,
                work,
                blank_model=self.blank_model,
                node=node_id_at(self.cfg.run_dir, agent, ran_at),
            )
            # reproduce from the server's record of the submission (its manifest), never the finding's text
            seed = int((sub.get("manifest") or {}).get("seed", 0)) if sub is not None else None
            # snapshots that differ only in notes or a recipe's name share one set of runs
            key = run_key(task, idea)
            plan.load_posted(self.api.rechecks(subject))
            payload = self._check(plan, key, seed, public_pgr=(sub or {}).get("pgr"))
            if payload is None:
                return None
        for name in payload.get("flags", []):
            if name == "probing":
                continue  # announced once per agent
            why = (payload.get("details") or {}).get("why", {}).get(name, name)
            self.api.post_insight(
                title=f"Flag: {name} on #{fid} by {agent}", task=task, parent_id=fid, body=why
            )
        return payload

    def verify_baseline(self, name: str) -> dict:
        """A baseline idea through the same held-out path (no submission to reproduce, never screened out).

        Its runs are kept under the run key a claim of the same method has (`_check`): an agent that posts a
        baseline's exact method gets the baseline's check (and one reproduce run), not a fresh screen on one
        seed, and a baseline that a claim already fully checked costs no run."""
        task = self.cfg.baseline_task
        work = self.home / "work" / f"baseline-{name}"
        if work.exists():
            shutil.rmtree(work)
        idea = BASELINES_DIR / name
        plan = Plan(
            self.api,
            self.runner,
            {"baseline": name, "task": task},
            idea,
            Path(self.cfg.tasks_root),
            task,
            work,
            blank_model=self.blank_model,
            kept=self._kept(),
        )
        key = run_key(task, idea)
        try:
            with self._claim_locks.setdefault(key, threading.Lock()):
                plan.load_posted(self.api.rechecks(plan.subject))  # a restart posts none of them twice
                plan.shared.update(self._shared_runs(key))
                try:
                    if screen(plan, self.cfg.verify) is not None:
                        others = [t for t in all_tasks(self.cfg.tasks_root) if t != task]
                        full_check(plan, self.cfg.verify, others)
                        self._complete(key)
                finally:
                    self._save_runs(key, plan.shared)
            res = self.api.close_verification(plan.subject, note=plan.note())
        except Exception as e:  # noqa: BLE001 - recorded, so the run is not left waiting on it
            log.exception("baseline %s failed", name)
            res = self.api.close_verification(plan.subject, note=f"overseer error: {repr(e)[:2000]}")
        with self.state.lock:
            self.state.data["baselines"][name] = {
                "name": name,
                "task": task,
                "status": res["status"],
                "verified_pgr": res.get("verified_pgr"),
            }
            self.state.save()
        return res

    # -- loops ----------------------------------------------------------------------------------

    def _kept(self) -> KeptRuns | None:
        if self.cfg.baseline_runs is None:
            return None
        try:
            return KeptRuns(self.cfg.baseline_runs)
        except OSError as e:  # an unusable folder costs re-runs, never the baseline's check
            log.warning("baseline runs not kept (%s): %s", self.cfg.baseline_runs, e)
            return None

    def _resume(self) -> None:
        """Deferred claims back to the queue: those behind an open claim once it is closed, the others
        once the build has made every task."""
        self.state.requeue_deferred(built=not pending_tasks(self.cfg.tasks_root))

    def pending_baselines(self) -> list[str]:
        done = self.state.data["baselines"]
        return [b for b in self.cfg.baselines if b not in done and (BASELINES_DIR / b / "run.py").is_file()]

    def run(self, stop: threading.Event, until_idle: bool = False) -> None:
        """Work until `stop` is set (or, with until_idle, until nothing is queued or running)."""
        pool = ThreadPoolExecutor(max(1, self.cfg.concurrency), thread_name_prefix="overseer")
        inflight: set[Future] = set()
        baselines = self.pending_baselines()
        turn_baseline = True
        try:
            while not stop.is_set():
                try:
                    self.poll()
                except (ApiError, OSError) as e:  # the server may be restarting
                    log.warning("poll failed: %s", e)
                self._resume()
                while len(inflight) < max(1, self.cfg.concurrency):
                    # baselines and claims alternate: "beats the best baseline" needs both early
                    take = not (baselines and turn_baseline)
                    job = self.state.take(self._free_below()) if take else None
                    if job is not None:
                        inflight.add(pool.submit(self.process, job))
                    elif baselines:
                        inflight.add(pool.submit(self.verify_baseline, baselines.pop(0)))
                    else:
                        break
                    turn_baseline = job is not None
                for fut in [f for f in inflight if f.done()]:
                    inflight.discard(fut)
                    if fut.exception() is not None:
                        log.error("overseer job failed: %r", fut.exception())
                if until_idle and not inflight and not baselines:
                    self._resume()
                    counts = self.state.counts()
                    if not counts.get("queued") and not counts.get("deferred"):
                        return
                stop.wait(self.cfg.poll_interval if not until_idle else 0.2)
        finally:
            pool.shutdown(wait=True)
