"""The searcher's research loop: read the forum, pick the next recipe, run it in the sandbox through the
compute queue, evaluate it, share what it found; keep its state in the workspace so a restart resumes.
"""

from __future__ import annotations

import json
import shlex
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aar.agents.searcher import space
from aar.agents.searcher.actions import Actions, ToolFailed
from aar.agents.searcher.directions import Direction
from aar.agents.searcher.policy import Policy, Proposal, Trial
from aar.agents.searcher.tpe import TpePolicy
from aar.compute import ComputeQueue, Slot
from aarlab.w2s.paired import pack

STATE_FILE = ".searcher/state.json"


@dataclass
class SearcherConfig:
    name: str
    task: str
    data_dir: Path
    seeds: list[int] = field(default_factory=lambda: [0])
    budget: int | None = None  # evaluations this agent may spend
    max_ideas: int | None = None
    deadline: float | None = None  # time.time() after which no new idea starts
    modes: list[str] | None = None  # allowed modes (None: all)
    run_timeout: float = 1800.0
    import_margin: float = 0.05  # import a colleague's result within this PGR of our best
    rng_seed: int = 0
    python: str = sys.executable
    # tpe (TpePolicy: Optuna TPE + paired tests) | local (Policy: mutations around the best)
    policy: str = "tpe"
    extra_seeds: list[int] = field(default_factory=list)  # task seeds beyond `seeds`, for replications
    n_public: int | None = None  # test items in the public half (for paired tests)
    n_test: int | None = None
    experiments_log: Path | None = None  # one JSON line per idea run: node, seconds, CPU-seconds measured


@dataclass
class LoopState:
    ideas: int = 0
    evaluations: int = 0
    forum_since: int = 0
    imported: list[int] = field(default_factory=list)  # finding ids already downloaded
    forum_results: list[dict] = field(default_factory=list)  # colleagues' results seen on the forum
    end_reason: str | None = None


class SearcherAgent:
    def __init__(
        self,
        cfg: SearcherConfig,
        actions: Actions,
        queue: ComputeQueue,
        direction: Direction,
        *,
        stop: threading.Event | None = None,
        log: Any = None,
        remote: Any = None,
        bundle: dict | None = None,
    ):
        """`remote` (an `aar.cluster.experiment.RayRuns`) runs each idea as a Ray task on the data
        `bundle` instead of in this agent's sandbox through the local `queue`."""
        self.cfg, self.act, self.queue = cfg, actions, queue
        self.remote, self.bundle = remote, bundle
        self.ws = actions.workspace
        self.stop = stop or threading.Event()
        self.policy: Policy | TpePolicy
        if cfg.policy == "local":
            self.policy = Policy(direction, cfg.name, rng_seed=cfg.rng_seed, modes=cfg.modes)
        elif cfg.policy == "tpe":
            self.policy = TpePolicy(direction, cfg.name, rng_seed=cfg.rng_seed, modes=cfg.modes,
                                    seeds=cfg.seeds, extra_seeds=cfg.extra_seeds, n_public=cfg.n_public,
                                    n_test=cfg.n_test)
        else:
            raise ValueError(f"unknown policy {cfg.policy!r}; choose tpe or local")
        self.state = LoopState()
        from aar.cluster.costs import RunningLog

        self.running = RunningLog(cfg.experiments_log.parent) if cfg.experiments_log is not None else None
        self.log = log or (lambda msg: print(f"[{cfg.name}] {msg}", file=sys.stderr, flush=True))
        self._load()

    # -- persistence ------------------------------------------------------------------------------

    def _state_path(self) -> Path:
        return self.ws / STATE_FILE

    def _load(self) -> None:
        path = self._state_path()
        if path.exists():
            raw = json.loads(path.read_text())
            kind = raw["policy"].get("kind", "local")
            if kind != self.cfg.policy:
                raise ValueError(
                    f"{path} holds the state of a {kind} policy; this agent runs {self.cfg.policy}"
                )
            self.policy.load_json(raw["policy"])
            self.state = LoopState(
                **{k: v for k, v in raw["loop"].items() if k in LoopState.__dataclass_fields__}
            )
            self.state.end_reason = None
            self.log(f"resumed: {self.state.ideas} ideas, {self.state.evaluations} evaluations so far")

    def _save(self) -> None:
        path = self._state_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"policy": self.policy.to_json(), "loop": self.state.__dict__}))
        tmp.replace(path)

    # -- the loop ---------------------------------------------------------------------------------

    def _budget_left(self) -> int | None:
        return None if self.cfg.budget is None else self.cfg.budget - self.state.evaluations

    def _why_stop(self) -> str | None:
        if self.stop.is_set():
            return "stopped"
        if self.cfg.deadline is not None and time.time() >= self.cfg.deadline:
            return "wall_time"
        left = self._budget_left()
        if left is not None and left < len(self.cfg.seeds):
            return "budget"
        if self.cfg.max_ideas is not None and self.state.ideas >= self.cfg.max_ideas:
            return "max_ideas"
        return None

    def run(self) -> str:
        while (reason := self._why_stop()) is None:
            self.sync_forum()
            proposal = self.policy.propose()
            if proposal is None:
                reason = "exhausted"
                break
            self.try_idea(proposal)
            self.share_insights()
            self._save()
        self.state.end_reason = reason
        self._save()
        self.log(f"done ({reason}): {self.state.ideas} ideas, {self.state.evaluations} evaluations")
        return reason

    # -- reading the forum and building on others -------------------------------------------------

    def sync_forum(self) -> None:
        try:
            found = self.act.forum(self.state.forum_since)
        except ToolFailed as e:
            self.log(f"read_forum failed: {e}")
            return
        for f in found:
            self.state.forum_since = max(self.state.forum_since, int(f.get("id", 0)))
            author = f.get("agent") or f.get("agent_name")
            pgr = (f.get("metrics") or {}).get("pgr")
            if author == self.cfg.name or not f.get("snapshot_id") or not isinstance(pgr, int | float):
                continue
            if f.get("task") not in (None, self.cfg.task):
                continue
            self.state.forum_results.append(
                {"id": int(f["id"]), "agent": author, "pgr": float(pgr), "snapshot_id": f["snapshot_id"]}
            )
        # the best colleagues' results not imported yet, at most two per round, if competitive with ours
        own = self.policy.best(own_only=True)
        floor = -1e9 if own is None or own.score is None else own.score - self.cfg.import_margin
        waiting = [r for r in self.state.forum_results if r["id"] not in self.state.imported]
        for r in sorted(waiting, key=lambda r: -r["pgr"])[:2]:
            if r["pgr"] < floor:
                break
            self._import(r, r["pgr"])

    def _import(self, f: dict, pgr: float) -> None:
        author = f.get("agent") or f.get("agent_name")
        dest = self.ws / "imported" / f"{author}-{f['id']}"
        self.state.imported.append(int(f["id"]))
        try:
            folder = self.act.download(f["snapshot_id"], dest)
            config, run_py = folder / "config.json", folder / "run.py"
            recipe = None
            if config.exists() and run_py.exists() and "run_recipe" in self.act.read_text(run_py):
                recipe = self.act.read_json(config)
        except (ToolFailed, json.JSONDecodeError, ValueError) as e:
            self.log(f"could not import {f['snapshot_id'][:12]}: {e}")
            return
        if not isinstance(recipe, dict):  # e.g. an LLM agent's hand-written idea: nothing to mutate
            self.log(f"snapshot {f['snapshot_id'][:12]} of {author} is not a recipe idea; skipped")
            return
        t = self.policy.absorb(
            recipe, pgr, str(author), int(f["id"]), f["snapshot_id"], self.cfg.import_margin
        )
        if t is not None:
            self.log(
                f"imported {author}'s result #{f['id']} (PGR {pgr:.3f}) from snapshot {f['snapshot_id'][:12]}"
            )

    # -- one idea ---------------------------------------------------------------------------------

    def _notes(self, idea: str, p: Proposal) -> str:
        lines = [
            f"# {idea}",
            "",
            f"Agent: {self.cfg.name} (direction {self.policy.direction.name})",
            f"Origin: {p.origin}: {p.reason}",
        ]
        if p.parent is not None:
            src = p.parent.idea or f"snapshot {p.parent.snapshot_id}"
            lines.append(
                f"Parent: {src} by {p.parent.agent} (finding {p.parent.finding_id}, "
                f"PGR {p.parent.score if p.parent.score is None else round(p.parent.score, 3)})"
            )
            lines.append(f"Changes: {json.dumps(p.changes)}")
        lines += [
            "",
            "Recipe (config.json):",
            "```json",
            json.dumps(space.compact(p.recipe), indent=1),
            "```",
        ]
        return "\n".join(lines) + "\n"

    def _run_cmd(self, folder: Path, out: Path, seed: int, slot: Slot) -> str:
        """The idea runner under the slot's limits (threads; its GPU on GPU machines: the slot's env also goes
        to the sandbox, which binds that GPU and names it inside, so CUDA_VISIBLE_DEVICES is not repeated)."""
        q = shlex.quote
        env = " ".join(f"{k}={q(v)}" for k, v in sorted(slot.env.items()) if k != "CUDA_VISIBLE_DEVICES")
        return (
            f"mkdir -p {q(self.act.rel(out))} && {env} "
            f"{q(self.cfg.python)} -m aarlab.w2s.run_idea {q(self.act.rel(folder))} "
            f"--data-dir {q(str(self.cfg.data_dir))} --out {q(self.act.rel(out))} --seed {seed} "
            f"--threads {slot.threads}"
        )

    def _run(self, folder: Path, out: Path, seed: int, idea: str) -> None:
        """One idea run: in this agent's sandbox through the compute queue, or as a Ray task (shown in the
        agent's running.json meanwhile)."""
        label = f"{idea}/seed{seed}"
        state = "queued" if self.remote is None else "submitted"
        key = self.running.start(label, state) if self.running else 0
        try:
            self._run_one(folder, out, seed, label, key)
        finally:
            if self.running:
                self.running.done(key)

    def _run_one(self, folder: Path, out: Path, seed: int, label: str, key: int) -> None:
        from aar.cluster.node import node_name

        t0 = time.time()  # `elapsed`: what the run cost this agent, waiting and shipping included
        if self.remote is None:
            with self.queue.slot(self.cfg.name, label) as slot:
                if self.running:
                    self.running.update(key, "running", node_name())
                res = self.act.bash_run(
                    self._run_cmd(folder, out, seed, slot), timeout=self.cfg.run_timeout, env=slot.env
                )
            self._record({"label": label, "node": node_name(), "seconds": res.get("seconds"),
                          "elapsed": time.time() - t0,
                          "cpu_seconds": res.get("cpu_seconds"), "waited": slot.waited,
                          "threads": slot.threads,
                          "gpu_seconds": (res.get("seconds") or 0.0) if slot.device is not None else 0.0})
            return
        assert self.bundle is not None, "a remote run needs the task's data bundle"
        res = self.remote.run(folder, self.bundle, seed, f"{self.cfg.name}/{label}", out=out,
                              timeout=self.cfg.run_timeout)
        keep = ("label", "node", "seconds", "cpu_seconds", "waited", "threads", "gpu_seconds", "returncode")
        self._record({**{k: res.get(k) for k in keep}, "elapsed": time.time() - t0})
        if res["returncode"] != 0 or res.get("killed_reason") or not (out / "predictions.json").is_file():
            why = res.get("killed_reason") or ("timed out" if res.get("timed_out") else "")
            raise ToolFailed("run_idea", f"exit code {res['returncode']} {why} on node {res['node']}\n"
                                         f"--- stderr\n{res.get('stderr', '')}")

    def _record(self, rec: dict) -> None:
        if self.cfg.experiments_log is None:
            return
        with open(self.cfg.experiments_log, "a") as f:
            f.write(json.dumps({"t": time.time(), "agent": self.cfg.name, **rec}) + "\n")

    def _parent_finding(self, p: Proposal) -> int | None:
        return p.parent.finding_id if p.parent is not None else None

    def try_idea(self, p: Proposal) -> Trial | None:
        from aarlab.w2s.recipe import write_idea

        self.state.ideas += 1
        self._save()  # a restart after a crash mid-idea continues with the next number, never reuses one
        idea = f"idea-{self.state.ideas:03d}"
        folder = self.ws / "ideas" / idea
        if p.hypothesis:
            self._post(
                "hypothesis",
                f"{idea}: {p.reason}",
                f"{p.hypothesis}\n\nRecipe to try: `{json.dumps(space.compact(p.recipe))}`",
                parent_id=self._parent_finding(p),
            )
        own = self._own_folder(p)
        if own is not None:  # a replication of our own idea: the same snapshot, so it is checked once
            folder = own
        else:
            write_idea(folder, {**space.compact(p.recipe), "name": idea})
            (folder / "NOTES.md").write_text(self._notes(idea, p))
        scores: dict[str, float] = {}
        accuracy: dict[str, float] = {}
        preds: dict[str, str] = {}
        last_sub: int | None = None
        for seed in p.seeds or self.cfg.seeds:
            out = self.ws / "out" / idea / f"seed{seed}"
            try:
                self._run(folder, out, seed, idea)
                ev = self.act.evaluate(out / "predictions.json", idea)
            except ToolFailed as e:
                return self._failed(p, idea, folder, e)
            self.state.evaluations += 1
            scores[str(seed)] = float(ev["pgr"])
            accuracy[str(seed)] = float(ev["accuracy"])
            packed = self._packed_test_predictions(out / "predictions.json")
            if packed is not None:
                preds[str(seed)] = packed
            last_sub = ev.get("submission_id")
        trial = self.policy.record(p, scores, idea=idea, accuracy=accuracy, preds=preds)
        self._share_result(trial, p, folder, list(accuracy.values()), last_sub, scores, idea)
        return trial

    def _own_folder(self, p: Proposal) -> Path | None:
        """The folder of this agent's own idea that `p` replicates unchanged on other seeds, if any."""
        parent = p.parent
        if p.origin != "confirm" or parent is None or parent.agent != self.cfg.name or not parent.idea:
            return None
        folder = self.ws / "ideas" / parent.idea
        same = space.key(parent.recipe) == space.key(p.recipe)
        return folder if same and (folder / "run.py").is_file() else None

    def _packed_test_predictions(self, path: Path) -> str | None:
        """This run's test predictions, kept (packed) for paired tests; None if they cannot be read."""
        try:
            test = self.act.read_json(path).get("test")
        except (ToolFailed, json.JSONDecodeError, AttributeError) as e:
            self.log(f"could not keep the predictions of {path.parent.name}: {e}")
            return None
        return pack(test) if isinstance(test, list) else None

    def _share_result(self, t: Trial, p: Proposal, folder: Path, accs: list[float], sub: int | None,
                      scores: dict[str, float] | None = None, idea: str | None = None) -> None:
        scores = scores if scores is not None else t.scores
        score = sum(scores.values()) / len(scores) if scores else 0.0
        own_best = self.policy.best(own_only=True)
        tag = " (new best of ours)" if own_best is not None and own_best.key == t.key else ""
        replication = p.origin == "confirm"
        if replication:
            tag = f" (replication of {t.idea} on seed {', '.join(scores)})"
        per_seed = ", ".join(f"seed {s}: {v:.3f}" for s, v in scores.items())
        body = (
            f"Recipe `{json.dumps(space.compact(t.recipe))}` ({p.origin}: {p.reason}).\n\n"
            f"Public PGR {score:.3f} (mean over seeds; {per_seed}), accuracy {sum(accs) / len(accs):.3f}."
        )
        note = self.policy.note(t) if isinstance(self.policy, TpePolicy) else ""
        if note:
            body += f"\n\n{note}"
        if p.parent is not None and p.parent.score is not None and not replication:
            body += (
                f"\n\nParent: {p.parent.idea or p.parent.snapshot_id} by {p.parent.agent} "
                f"(PGR {p.parent.score:.3f}); changes {json.dumps(p.changes)}; "
                f"delta {score - p.parent.score:+.3f}."
            )
        metrics: dict[str, float] = {
            "pgr": round(score, 4),
            "accuracy": round(sum(accs) / len(accs), 4),
            "n_seeds": float(len(scores)),
        }
        metrics.update({f"pgr_seed{s}": round(v, 4) for s, v in scores.items()})
        if p.parent is not None and p.parent.score is not None and not replication:
            metrics["delta_vs_parent"] = round(score - p.parent.score, 4)
        if p.parent is not None and p.parent.snapshot_id:
            body += f"\n\nBuilt on snapshot {p.parent.snapshot_id}."
        data = self._post(
            "result",
            f"{idea or t.idea}: PGR {score:.3f}{tag}",
            body,
            folder=folder,
            metrics=metrics,
            submission_id=sub,
            parent_id=self._parent_finding(p),
        )
        if data and not replication:
            t.finding_id = data.get("id") or data.get("finding_id")
            t.snapshot_id = data.get("snapshot_id")
        self.log(f"{idea or t.idea} PGR {score:.3f} {p.origin} {json.dumps(p.changes)}")

    def _failed(self, p: Proposal, idea: str, folder: Path, e: ToolFailed) -> None:
        self.policy.failed(p, idea, e.output)
        if e.tool == "evaluate" and ("429" in e.output or "budget" in e.output.lower()):
            self.log("evaluation budget exhausted on the server")
            self.stop.set()
        self._post(
            "error",
            f"{idea} failed in {e.tool}",
            f"Recipe `{json.dumps(space.compact(p.recipe))}` failed:\n\n```\n{e.output[-1500:]}\n```",
            folder=folder,
        )
        return None

    def share_insights(self) -> None:
        for ins in self.policy.new_insights():
            self._post("insight", ins.title, ins.body, metrics=ins.metrics)

    def _post(self, type: str, title: str, body: str, **kw: Any) -> dict | None:
        try:
            data = self.act.share(type, title, body, **kw)
        except ToolFailed as e:
            self.log(f"share_finding ({type}) failed: {e}")
            return None
        return data.get("finding", data) if isinstance(data.get("finding"), dict) else data
