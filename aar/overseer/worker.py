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
from aar.overseer.rerun import Runner
from aar.overseer.state import State
from aar.overseer.verify import VerifyConfig, check_reproduces, measure
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


def all_tasks(tasks_root: Path) -> list[str]:
    return sorted(p.parents[2].name for p in Path(tasks_root).glob("*/main/public/meta.json"))


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
                payload = self.api.close_verification(
                    {"finding_id": fid}, note=f"overseer error: {repr(e)[:2000]}"
                )
            except ApiError:
                log.exception("could not record failure of %s", fid)
            self.state.finish(fid, "failed", payload)
            return payload
        self.state.finish(fid, "done", payload)
        return payload

    def verify_finding(self, fid: int) -> dict:
        f = self.api.finding(fid)
        agent = str(f.get("agent"))
        subject = {"finding_id": fid}
        sub = self.api.submission(int(f["submission_id"])) if f.get("submission_id") is not None else None
        task = f.get("task") or (sub or {}).get("task")
        work = self.home / "work" / f"f{fid}"
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        note = None
        if "probing" in self.state.data["flagged_agents"].get(agent, []) and self.cfg.skip_when_flagged:
            note = "flagged before re-running: not measured further"
        elif not f.get("snapshot_id") or not task:
            note = "the result names no snapshot (or no task) to re-run"
        else:
            idea = idea_root(self.api.download_snapshot(str(f["snapshot_id"]), work / "idea"))
            main = Path(self.cfg.tasks_root) / task / "main" / "public"
            ok = True
            if sub is not None:  # reproduce from the server's record of the submission
                seed = (sub.get("manifest") or {}).get("seed", (f.get("metrics") or {}).get("seed", 0))
                ok = check_reproduces(self.api, self.runner, subject, idea, main, task, int(seed), work)
            if ok or not self.cfg.skip_when_flagged:
                others = [t for t in all_tasks(self.cfg.tasks_root) if t != task]
                measure(
                    self.api,
                    self.runner,
                    subject,
                    idea,
                    Path(self.cfg.tasks_root),
                    task,
                    others,
                    work,
                    self.cfg.verify,
                )
            else:
                note = "does not reproduce: not measured further"
        payload = self.api.close_verification(subject, note=note)
        for name in payload.get("flags", []):
            if name == "probing":
                continue  # announced once per agent
            why = (payload.get("details") or {}).get("why", {}).get(name, name)
            self.api.post_insight(
                title=f"Flag: {name} on #{fid} by {agent}", task=task, parent_id=fid, body=why
            )
        return payload

    def verify_baseline(self, name: str) -> dict:
        """A baseline idea through the same held-out path (no submission to reproduce)."""
        work = self.home / "work" / f"baseline-{name}"
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        task = self.cfg.baseline_task
        subject = {"baseline": name, "task": task}
        others = [t for t in all_tasks(self.cfg.tasks_root) if t != task]
        # the same held-out seeds and scoring as every claim; no ablation, generalization only if asked
        vcfg = dataclasses.replace(
            self.cfg.verify, ablation=False, generalization=self.cfg.baseline_generalization
        )
        note = None
        try:
            measure(
                self.api,
                self.runner,
                subject,
                BASELINES_DIR / name,
                Path(self.cfg.tasks_root),
                task,
                others,
                work,
                vcfg,
            )
        except Exception as e:  # noqa: BLE001 - recorded, so the run is not left waiting on it
            log.exception("baseline %s failed", name)
            note = f"overseer error: {repr(e)[:2000]}"
        res = self.api.close_verification(subject, note=note)
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
                while len(inflight) < max(1, self.cfg.concurrency):
                    # baselines and claims alternate: "beats the best baseline" needs both early
                    job = None if (baselines and turn_baseline) else self.state.take()
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
