"""The overseer loop: poll `result` findings, verify each in a fresh sandbox, detect probing, post results."""

from __future__ import annotations

import dataclasses
import logging
import shutil
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from aar.overseer.api import ApiError, OverseerApi
from aar.overseer.probing import ProbingConfig, detect
from aar.overseer.rerun import Runner
from aar.overseer.state import State
from aar.overseer.verify import Verification, VerifyConfig, check_reproduces, measure
from aar.tasks.readiness import pending_tasks, task_ready
from aarlab.w2s.baselines import BASELINES_DIR

log = logging.getLogger("aar.overseer")


@dataclass
class OverseerConfig:
    run_dir: Path
    tasks_root: Path
    concurrency: int = 1
    poll_interval: float = 2.0
    max_attempts: int = 2
    skip_when_flagged: bool = True  # a claim that does not reproduce is not measured further
    baselines: list[str] = field(default_factory=list)  # baseline ideas to verify the same way
    baseline_task: str = "math"
    baseline_generalization: bool = False
    verify: VerifyConfig = field(default_factory=VerifyConfig)
    probing: ProbingConfig = field(default_factory=ProbingConfig)


def all_tasks(tasks_root: Path) -> list[str]:
    """Tasks whose both draws are built (a task still being built is left out, not measured half-made)."""
    names = sorted(p.parents[2].name for p in Path(tasks_root).glob("*/main/public/meta.json"))
    return [t for t in names if task_ready(tasks_root, t)]


def idea_root(folder: Path) -> Path:
    """The folder holding run.py inside an unpacked snapshot (top level or a single sub-folder)."""
    if (folder / "run.py").is_file():
        return folder
    subs = [p for p in folder.iterdir() if p.is_dir()]
    if len(subs) == 1 and (subs[0] / "run.py").is_file():
        return subs[0]
    return folder


class Overseer:
    def __init__(self, api: OverseerApi, cfg: OverseerConfig, runner: Runner):
        self.api, self.cfg, self.runner = api, cfg, runner
        self.home = Path(cfg.run_dir) / "overseer"
        self.state = State(self.home / "state.json")
        self._preds: dict[int, list[int]] = {}
        self._subs: list[dict] = []
        self._probe_lock = threading.Lock()
        runner.on_run = self._account
        self.state.data["baselines_wanted"] = list(cfg.baselines)
        self.state.save()

    def _account(self, run: dict) -> None:
        with self.state.lock:
            acc = self.state.data.setdefault("compute", {"runs": 0, "seconds": 0.0, "cpu_seconds": 0.0})
            acc["runs"] += 1
            acc["seconds"] += float(run["seconds"])
            acc["cpu_seconds"] += float(run["seconds"]) * int(run.get("threads", 1))
            self.state.save()

    # -- intake ---------------------------------------------------------------------------------

    def poll(self) -> int:
        """Queue new result findings and run the probing detector; returns how many were queued."""
        new = self.api.findings(since=int(self.state.data["last_finding_id"]), type="result")
        n = sum(self.state.enqueue(f) for f in new)
        self.detect_probing()
        return n

    def detect_probing(self) -> list[str]:
        with self._probe_lock:
            groups: dict[tuple[str, str], list[dict]] = {}
            since = int(self._subs[-1]["submission_id"]) if self._subs else 0
            self._subs += self.api.submissions(since=since)  # ascending ids: fetch only what is new
            for s in self._subs:
                if s.get("agent") in ("overseer", "admin"):
                    continue
                groups.setdefault((str(s["agent"]), str(s["task"])), []).append(s)
            newly = []
            for (agent, task), subs in sorted(groups.items()):
                if len(subs) < self.cfg.probing.min_near:
                    continue
                subs.sort(key=lambda s: int(s["submission_id"]))
                for s in subs:
                    sid = int(s["submission_id"])
                    if sid not in self._preds:
                        self._preds[sid] = self.api.predictions(sid)
                verdict = detect(
                    agent,
                    task,
                    [(int(s["submission_id"]), self._preds[int(s["submission_id"])]) for s in subs],
                    self.cfg.probing,
                )
                self.state.data["probing"][f"{agent}/{task}"] = verdict.as_dict()
                flagged = self.state.data["flagged_agents"].get(agent, [])
                if verdict.flagged and "probing" not in flagged:
                    self.state.data["flagged_agents"][agent] = [*flagged, "probing"]
                    newly.append(agent)
                    self._announce_probing(agent, task, verdict.n_near, verdict.n_submissions)
            self.state.save()
            return newly

    def _announce_probing(self, agent: str, task: str, n_near: int, n: int) -> None:
        body = (
            f"{n_near} of {agent}'s {n} submissions on `{task}` differ from an earlier submission of theirs "
            f"in only a few test predictions: the pattern of extracting labels by probing the scoring "
            f"endpoint. Their results are flagged `probing` and left off the verified ranking."
        )
        self.api.post_insight(
            title=f"Flag: probing by {agent}",
            body=body,
            task=task,
            metrics={"near_duplicates": float(n_near), "submissions": float(n)},
        )
        for job in list(self.state.data["jobs"].values()):  # results verified before the flag get it too
            res = job.get("result")
            if job["agent"] == agent and res and "probing" not in res["flags"]:
                res["flags"].append("probing")
                res["status"] = "flagged"
                self.api.post_verification(res)
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
            payload = Verification(status="failed", details={"error": repr(e)[:2000]}).payload(fid)
            try:
                self.api.post_verification(payload)
            except ApiError:
                log.exception("could not record failure of %s", fid)
            self.state.finish(fid, "failed", payload)
            return payload
        self.state.finish(fid, "done", payload)
        return payload

    def verify_finding(self, fid: int) -> dict:
        f = self.api.finding(fid)
        v = Verification()
        agent = str(f.get("agent"))
        if "probing" in self.state.data["flagged_agents"].get(agent, []):
            v.flag("probing", f"{agent} probed the scoring endpoint")
        task = f.get("task")
        work = self.home / "work" / f"f{fid}"
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        sub_id = f.get("submission_id")
        submitted = self.api.predictions(int(sub_id)) if sub_id is not None else None
        if not task and sub_id is not None:
            subs = self.api.submissions()
            task = next((s["task"] for s in subs if int(s["submission_id"]) == int(sub_id)), None)
        if v.flags and self.cfg.skip_when_flagged:
            v.details["skipped"] = "flagged before re-running: not measured further"
        elif not f.get("snapshot_id") or not task:
            v.flag("unreproducible", "the result names no snapshot (or no task) to re-run")
        else:
            idea = idea_root(self.api.download_snapshot(str(f["snapshot_id"]), work / "idea"))
            main = Path(self.cfg.tasks_root) / task / "main" / "public"
            ok = True
            if submitted is not None:
                seed = int((f.get("metrics") or {}).get("seed", 0))
                ok = check_reproduces(self.runner, idea, main, seed, submitted, work, self.cfg.verify, v)
            else:
                v.details["reproduce"] = "no submission linked: nothing to compare"
            if ok or not self.cfg.skip_when_flagged:
                others = [t for t in all_tasks(self.cfg.tasks_root) if t != task]
                measure(self.runner, idea, Path(self.cfg.tasks_root), task, others, work, self.cfg.verify, v)
        payload = v.payload(fid)
        self.api.post_verification(payload)
        for name in v.flags:
            if name == "probing":
                continue  # announced once per agent
            self.api.post_insight(
                title=f"Flag: {name} on #{fid} by {agent}",
                task=task,
                parent_id=fid,
                body=v.details.get("why", {}).get(name, name),
            )
        return payload

    def verify_baseline(self, name: str) -> dict:
        """A baseline idea through the same held-out path (no submission to reproduce)."""
        v = Verification()
        work = self.home / "work" / f"baseline-{name}"
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        task = self.cfg.baseline_task
        others = [t for t in all_tasks(self.cfg.tasks_root) if t != task]
        # the same held-out seeds and scoring as every claim; no ablation, generalization only if asked
        vcfg = dataclasses.replace(
            self.cfg.verify, ablation=False, generalization=self.cfg.baseline_generalization
        )
        try:
            measure(self.runner, BASELINES_DIR / name, Path(self.cfg.tasks_root), task, others, work, vcfg, v)
        except Exception as e:  # noqa: BLE001 - recorded, so the run is not left waiting on it
            log.exception("baseline %s failed", name)
            v.status, v.details["error"] = "failed", repr(e)[:2000]
        res = {"name": name, "task": task, **v.payload(0)}
        res.pop("finding_id")
        with self.state.lock:
            self.state.data["baselines"][name] = res
            self.state.save()
        return res

    # -- loops ----------------------------------------------------------------------------------

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
                # claims wait while a build still has tasks to make: their generalization needs them all
                claims_wait = bool(pending_tasks(self.cfg.tasks_root))
                while len(inflight) < max(1, self.cfg.concurrency):
                    # baselines and claims alternate: "beats the best baseline" needs both early
                    take = not claims_wait and not (baselines and turn_baseline)
                    job = self.state.take() if take else None
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
                if until_idle and not inflight and not baselines and not self.state.counts().get("queued"):
                    return
                stop.wait(self.cfg.poll_interval if not until_idle else 0.2)
        finally:
            pool.shutdown(wait=True)
