"""Optional MLflow logging of a run (`pip install 'aar[mlflow]'`, a `[mlflow]` table in run.toml).

One MLflow parent run per aar run (tags: the manifest's id, task, aar version, git commit; params: the
config hash and seeds). Every submission adds a step (its id) to the parent's metrics `accuracy`, `pgr`,
`private_accuracy`, `private_pgr` and the per-agent `pgr/<agent>`; every verification is a nested run per
subject (a result finding or a baseline), tagged with its status, flags and labels, whose metrics
(`verified_pgr`, `verified_pgr_se`, `verified_accuracy`, `reproduce_agreement`, `ablation_pgr`,
`blank_strong_pgr`, `generalization/<task>`, `subset/<name>/accuracy|pgr`) get a step each time the subject
is re-closed. The figures are the admin's (the server's records, read with the admin token); agents never
read MLflow.

The supervisor syncs every `interval` seconds in a background thread and once more when the run stops;
cursors and run ids live in RUN_DIR/mlflow.json, so `aar resume` continues the same parent run and nothing
is logged twice. `mlflow` is imported only here, inside the methods.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aar.supervisor.config import MlflowConfig
from aar.times import to_seconds
from aarlab.client import AarClient

log = logging.getLogger("aar.mlflow")
STATE = "mlflow.json"
SUBMISSION_METRICS = ("accuracy", "pgr", "private_accuracy", "private_pgr")
VERIFICATION_METRICS = ("verified_pgr", "verified_pgr_se", "verified_accuracy", "reproduce_agreement",
                        "ablation_pgr", "blank_strong_pgr")
END_STATUS = {"done": "FINISHED", "failed": "FAILED", "stopped": "KILLED"}


def available() -> bool:
    import importlib.util

    return importlib.util.find_spec("mlflow") is not None


def _ms(t: object) -> int:
    try:
        return int(to_seconds(t) * 1000)
    except (TypeError, ValueError):
        return 0


def _num(v: object) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def subject_key(row: dict) -> str:
    if row.get("finding_id") is not None:
        return f"f{row['finding_id']}"
    return f"b-{row.get('baseline')}-{row.get('task')}"


class MlflowLogger:
    def __init__(self, run_dir: Path, cfg: MlflowConfig, manifest: dict | None = None) -> None:
        self.run_dir, self.cfg, self.manifest = Path(run_dir), cfg, manifest or {}
        self.path = self.run_dir / STATE
        self.state: dict[str, Any] = {"submission_since": 0, "verification_since": 0, "children": {}}
        if self.path.exists():
            self.state.update(json.loads(self.path.read_text()))
        self._client = None
        self._lock = threading.Lock()

    # -- MLflow side ------------------------------------------------------------------------------

    @property
    def client(self):  # noqa: ANN201 - mlflow.tracking.MlflowClient, imported lazily
        if self._client is None:
            from mlflow.tracking import MlflowClient

            self._client = MlflowClient(tracking_uri=self.cfg.tracking_uri)
        return self._client

    def _save(self) -> None:
        tmp = self.path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(self.state, indent=1))
        os.replace(tmp, self.path)

    def parent(self) -> str:
        """The MLflow run of this aar run (created once; set running again on resume)."""
        from mlflow.entities import Param

        c = self.client
        if self.state.get("parent_run_id"):
            c.update_run(self.state["parent_run_id"], status="RUNNING")
            return self.state["parent_run_id"]
        exp = c.get_experiment_by_name(self.cfg.experiment)
        exp_id = exp.experiment_id if exp is not None else c.create_experiment(self.cfg.experiment)
        m = self.manifest
        tags = {"aar.run_id": str(m.get("id", "")), "aar.run_dir": str(self.run_dir),
                "aar.task": str(m.get("task", "")), "aar.version": str(m.get("aar_version", "")),
                "aar.git_commit": str(m.get("git_commit") or "")}
        run = c.create_run(exp_id, run_name=self.cfg.run_name or self.run_dir.name, tags=tags)
        params = [Param("config_hash", str(m.get("config_hash", ""))),
                  Param("seeds", json.dumps(m.get("seeds", {}), sort_keys=True)[:6000])]
        c.log_batch(run.info.run_id, params=params)
        self.state.update(experiment_id=exp_id, parent_run_id=run.info.run_id)
        self._save()
        return run.info.run_id

    def _child(self, parent: str, row: dict) -> str:
        key = subject_key(row)
        run_id = self.state["children"].get(key)
        if run_id is None:
            fid = row.get("finding_id")
            name = f"finding {fid}" if fid is not None else f"baseline {row.get('baseline')}"
            tags = {"mlflow.parentRunId": parent, "aar.subject": key, "aar.task": str(row.get("task"))}
            if row.get("finding_id") is not None:
                tags["aar.finding_id"] = str(row["finding_id"])
            run_id = self.client.create_run(self.state["experiment_id"], run_name=name, tags=tags).info.run_id
            self.state["children"][key] = run_id
        return run_id

    # -- sync -------------------------------------------------------------------------------------

    def log_submissions(self, parent: str, rows: list[dict]) -> None:
        from mlflow.entities import Metric

        metrics = []
        for r in rows:
            step, t = int(r["submission_id"]), _ms(r.get("created_at"))
            for k in SUBMISSION_METRICS:
                if (v := _num(r.get(k))) is not None:
                    metrics.append(Metric(k, v, t, step))
            if (v := _num(r.get("pgr"))) is not None:
                metrics.append(Metric(f"pgr/{r.get('agent')}", v, t, step))
        for i in range(0, len(metrics), 1000):  # MLflow's batch limit
            self.client.log_batch(parent, metrics=metrics[i : i + 1000])

    def log_verification(self, parent: str, row: dict) -> None:
        from mlflow.entities import Metric, RunTag

        run_id = self._child(parent, row)
        step, t = int(row["id"]), _ms(row.get("created_at"))
        values: dict[str, float | None] = {k: _num(row.get(k)) for k in VERIFICATION_METRICS}
        for task, v in (row.get("generalization") or {}).items():
            values[f"generalization/{task}"] = _num(v)
        for name, s in ((row.get("details") or {}).get("subsets") or {}).items():
            values[f"subset/{name or 'none'}/accuracy"] = _num(s.get("accuracy"))
            values[f"subset/{name or 'none'}/pgr"] = _num(s.get("pgr"))
        metrics = [Metric(k, v, t, step) for k, v in values.items() if v is not None]
        tags = [RunTag("status", str(row.get("status"))), RunTag("flags", ",".join(row.get("flags") or [])),
                RunTag("labels", ",".join(row.get("labels") or []))]
        self.client.log_batch(run_id, metrics=metrics, tags=tags)
        self.client.set_terminated(run_id, "FINISHED")

    def sync(self, admin: AarClient) -> int:
        """Log what the server recorded since the last sync; returns how many records were logged."""
        with self._lock:
            parent = self.parent()
            n = 0
            while True:
                subs = admin.submissions(since=int(self.state["submission_since"]), limit=10_000)
                if not subs:
                    break
                self.log_submissions(parent, subs)
                self.state["submission_since"] = int(subs[-1]["submission_id"])
                self._save()
                n += len(subs)
            while True:
                rows = admin.verifications(since=int(self.state["verification_since"]), limit=1000)
                if not rows:
                    break
                for r in rows:
                    self.log_verification(parent, r)
                    self.state["verification_since"] = int(r["id"])
                    self._save()
                n += len(rows)
            return n

    def finish(self, status: str) -> None:
        with self._lock:
            if self.state.get("parent_run_id"):
                self.client.set_terminated(self.state["parent_run_id"], END_STATUS.get(status, "FINISHED"))


class MlflowSync:
    """The supervisor's background syncing: `start`, then `stop(status)` (a last sync, the parent closed)."""

    def __init__(self, logger: MlflowLogger, admin: Callable[[], AarClient], interval: float) -> None:
        self.logger, self.admin, self.interval = logger, admin, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def once(self) -> None:
        try:
            with self.admin() as admin:
                self.logger.sync(admin)
        except Exception:  # noqa: BLE001 - MLflow trouble never stops a run; it is logged and retried
            log.exception("mlflow sync failed (retried at the next sync)")

    def _loop(self) -> None:
        self.once()
        while not self._stop.wait(self.interval):
            self.once()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="aar-mlflow", daemon=True)
        self._thread.start()

    def stop(self, status: str) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        self.once()
        try:
            self.logger.finish(status)
        except Exception:  # noqa: BLE001
            log.exception("could not close the mlflow run")
