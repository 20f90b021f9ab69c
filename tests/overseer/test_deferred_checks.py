"""Claims are checked while a build still makes the other tasks: screened, reproduced and checked on their
own task's held-out draw at once, then resumed for the generalization runs once the build is done, with no
re-check posted twice. A real server over HTTP, real sandboxed re-runs on the tiny tasks; the build under
way is a live process's status file under `<tasks root>/.building`, as `aar.tasks.schedule.Build` writes.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from aar.compute import ComputeQueue
from aar.overseer.api import OverseerApi
from aar.overseer.rerun import Runner
from aar.overseer.verify import VerifyConfig
from aar.overseer.worker import BASELINES_DIR, Overseer, OverseerConfig

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
sys.path.insert(0, str(Path(__file__).parent))
from server_helpers import ServerProc  # noqa: E402
from test_cheaters import _run_idea  # noqa: E402


def _wait(cond, timeout: float = 600.0) -> None:  # noqa: ANN001
    end = time.time() + timeout
    while not cond():
        assert time.time() < end, "timed out"
        time.sleep(0.3)


def _jobs(run_dir: Path) -> dict:
    path = run_dir / "overseer" / "state.json"
    return json.loads(path.read_text())["jobs"] if path.exists() else {}


def test_claims_are_checked_while_the_other_tasks_are_built_and_resumed_after(
    tiny_tasks: Path, tmp_path: Path
) -> None:
    srv = ServerProc(tmp_path / "run", tiny_tasks, ["--budget", "1000"]).start()
    building = tiny_tasks / ".building" / f"{os.getpid()}.json"
    stop = threading.Event()
    try:
        admin = srv.client()
        idea = tmp_path / "idea"
        shutil.copytree(BASELINES_DIR / "vanilla_w2s", idea)
        real = _run_idea(idea, tiny_tasks / "math" / "main" / "public", tmp_path / "out")
        fids = {}
        for name, preds in (("honest", real), ("laggard", [1 - p for p in real])):
            c = srv.client(admin.create_agent(name)["token"])
            folder = tmp_path / f"idea-{name}"
            shutil.copytree(idea, folder)
            (folder / "AUTHOR").write_text(name)
            snap = c.upload_snapshot(folder)
            sub = c.evaluate("math", preds, snapshot_id=snap)
            fids[name] = c.post_finding(
                type="result", title=name, body="", task="math", snapshot_id=snap,
                submission_id=sub["submission_id"],
            )["id"]

        # a build under way: `code` is not made yet (this process's pid, so it is alive)
        building.parent.mkdir(exist_ok=True)
        building.write_text(json.dumps({"pid": os.getpid(), "tasks": {"code": "building"}, "checkable": []}))
        api = OverseerApi(url=srv.url, admin_token=srv.admin_token())
        runner = Runner(queue=ComputeQueue(tmp_path / "compute", 1), sandbox="bwrap")
        cfg = OverseerConfig(
            run_dir=srv.run_dir, tasks_root=tiny_tasks, poll_interval=0.2, verify=VerifyConfig(seeds=(0, 1))
        )
        ov = Overseer(api, cfg, runner)
        worker = threading.Thread(target=ov.run, args=(stop,), daemon=True)
        worker.start()

        def status(name: str) -> str | None:
            return _jobs(srv.run_dir).get(str(fids[name]), {}).get("status")

        _wait(lambda: status("honest") == "deferred" and status("laggard") == "deferred")
        honest = {"finding_id": fids["honest"]}
        early = admin.rechecks(**honest)
        # its own task's checks ran (both held-out seeds, reproduce, shuffled weak labels); nothing else did,
        # and nothing was closed: it is not verified before its generalization runs
        assert sorted({(r["kind"], r["task"]) for r in early}) == [
            ("heldout", "math"), ("reproduce", "math"), ("shuffled_weak", "math")
        ], early
        assert admin.verifications(finding_id=fids["honest"]) == []
        held = [r["pgr"] for r in early if r["kind"] == "heldout"]
        assert _jobs(srv.run_dir)[str(fids["honest"])]["provisional_pgr"] == sum(held) / len(held)
        # the waiting claim's held-out mean is the bar: the laggard, far below it, waits behind it with no
        # run (that claim may yet be flagged: nothing is screened out on a bar not verified)
        assert _jobs(srv.run_dir)[str(fids["laggard"])]["behind"] == fids["honest"]
        assert admin.rechecks(finding_id=fids["laggard"]) == []
        assert admin.verifications(finding_id=fids["laggard"]) == []

        building.unlink()  # the build is done
        _wait(lambda: status("honest") == "done" and status("laggard") == "done")
        lag = admin.verifications(finding_id=fids["laggard"])[0]
        assert lag["status"] == "screened" and lag["runs"] == [] and "public PGR" in lag["note"], lag
        v = admin.verifications(finding_id=fids["honest"])[0]
        assert v["status"] == "verified", json.dumps(v)
        assert sorted(v["generalization"]) == ["code", "world"], json.dumps(v)
        assert v["verified_pgr"] == sum(held) / len(held)
        # each run posted once: resuming re-posted none of the early ones
        runs = Counter((r["kind"], r["task"], r["seed"]) for r in admin.rechecks(**honest))
        assert max(runs.values()) == 1 and runs[("heldout", "math", 0)] == runs[("heldout", "math", 1)] == 1
        assert {r["recheck_id"] for r in early} <= {r["recheck_id"] for r in admin.rechecks(**honest)}
    finally:
        stop.set()
        building.unlink(missing_ok=True)
        srv.stop()
