"""Imported tasks on the real server: an unprepared one is listed for the admin with what to run (never
silently hidden) and served once prepared; held-out re-checks are reported per `subset` to the admin only."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from server_helpers import ServerProc

from aar.tasks.aar_jsonl import import_aar
from aar.tasks.private import labels_for, subsets_for
from aarlab.client.client import AarClientError

N = {"train_label": 10, "train_unlabel": 24, "test": 80}
SUBSET_BASE = {"in": {"weak_acc": 0.6, "strong_acc": 0.9, "n": 0},
               "out": {"weak_acc": 0.5, "strong_acc": 0.7, "n": 0}}


def release(root: Path) -> Path:
    rng = random.Random(7)
    for split, n in N.items():
        rows = [{"question": f"{split} q{i} {rng.random():.6f}", "choice": "c", "label": rng.random() < 0.5,
                 "subset": "out" if i % 4 == 0 else "in", "difficulty": i % 3} for i in range(n)]
        (root / f"{split}.jsonl").parent.mkdir(parents=True, exist_ok=True)
        (root / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


def fake_prepare(task_dir: Path) -> None:
    """What `prepare_imported` writes, with fixed figures (this tests the server, not the models)."""
    for draw in ("main", "heldout"):
        pub = task_dir / draw / "public"
        meta = json.loads((pub / "meta.json").read_text())
        meta["baselines"] = {"probe": {"weak_acc": 0.6, "strong_acc": 0.85}}
        meta["reference_mode"] = "probe"
        (pub.parent / "private" / "subset_baselines.json").write_text(json.dumps({"probe": SUBSET_BASE}))
        (pub / "meta.json").write_text(json.dumps(meta))


@pytest.fixture(scope="module")
def imported_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProc, Path]]:
    root = tmp_path_factory.mktemp("imported_tasks")
    src = release(tmp_path_factory.mktemp("release") / "labeled_data" / "toy")
    import_aar(src, "raw", root, "w", "s", seeds=[0])
    import_aar(src, "ready", root, "w", "s", seeds=[0], prepare=fake_prepare)
    srv = ServerProc(tmp_path_factory.mktemp("run"), root).start()
    yield srv, root
    srv.stop()


def test_unprepared_task_is_listed_with_what_to_run(imported_server: tuple[ServerProc, Path]) -> None:
    srv, root = imported_server
    admin = srv.client()
    agent = srv.client(admin.create_agent("imp-agent")["token"])
    rows = {r["task"]: r for r in admin.tasks()}
    assert rows["ready"]["prepared"] is True and rows["ready"]["draws"] == ["main", "heldout"]
    assert rows["ready"]["subset_baselines"] == {k: {"weak_acc": v["weak_acc"], "strong_acc": v["strong_acc"]}
                                                 for k, v in SUBSET_BASE.items()}
    assert rows["raw"]["prepared"] is False
    assert f"aar w2s prepare-imported raw --tasks-dir {root}" in rows["raw"]["reason"]
    assert [t["task"] for t in agent.tasks()] == ["ready"]  # agents: served tasks, public meta only
    assert "subset_baselines" not in agent.task("ready") and "prepared" not in agent.tasks()[0]
    with pytest.raises(AarClientError) as e:
        admin.task("raw")
    assert e.value.status == 409 and "prepare-imported" in e.value.detail
    with pytest.raises(AarClientError) as e:
        agent.task("raw")
    assert e.value.status == 404
    log = (srv.run_dir / "server.log").read_text()
    assert "aar serve: task 'raw' is not served: not prepared" in log
    fake_prepare(root / "raw")  # prepared while the server runs: the next scan serves it
    deadline = time.time() + 10
    while "raw" not in [t["task"] for t in agent.tasks()]:
        assert time.time() < deadline, "the prepared task was not picked up"
        time.sleep(0.5)
    assert admin.task("raw")["prepared"] is True


def test_heldout_rechecks_reported_per_subset_to_the_admin_only(
        imported_server: tuple[ServerProc, Path]) -> None:
    srv, root = imported_server
    admin = srv.client()
    agent = srv.client(admin.create_agent("imp-agent-2")["token"])
    held = root / "ready" / "heldout" / "public"
    y = np.asarray(labels_for(held)["test"])
    subsets = np.asarray(subsets_for(held))
    assert set(subsets) == {"in", "out"}
    rng = np.random.default_rng(0)
    runs = [np.where(rng.random(y.size) < 0.8, y, 1 - y) for _ in range(2)]
    subject = {"baseline": "vanilla_w2s", "task": "ready"}
    for seed, preds in enumerate(runs):
        admin.post_recheck(subject, "heldout", "ready", "heldout", seed=seed, predictions=preds.tolist())
    row = admin.close_verification(subject)
    got = row["details"]["subsets"]
    for name, base in SUBSET_BASE.items():
        idx = subsets == name
        accs = [float((p[idx] == y[idx]).mean()) for p in runs]
        pgrs = [(a - base["weak_acc"]) / (base["strong_acc"] - base["weak_acc"]) for a in accs]
        assert got[name]["n"] == int(idx.sum()) and got[name]["runs"] == 2
        assert got[name]["accuracy"] == pytest.approx(np.mean(accs))
        assert got[name]["pgr"] == pytest.approx(np.mean(pgrs))
    assert sum(g["n"] for g in got.values()) == y.size
    seen = [v for v in agent.verifications() if v.get("baseline") == "vanilla_w2s"]
    assert seen and all("details" not in v for v in seen)
    board = [r for r in agent.verified_leaderboard("ready") if r.get("baseline") == "vanilla_w2s"]
    assert board and all("details" not in r for r in board)
