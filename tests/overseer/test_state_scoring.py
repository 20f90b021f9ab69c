import json
import random
from pathlib import Path

from aar.overseer.state import State
from aar.overseer.verify import shuffled_weak


def test_running_jobs_are_requeued_after_a_restart(tmp_path: Path) -> None:
    st = State(tmp_path / "state.json")
    assert st.enqueue({"id": 3, "agent": "a", "task": "math"})
    assert st.enqueue({"id": 5, "agent": "b", "task": "math"})
    assert not st.enqueue({"id": 3})
    job = st.take()
    assert job is not None and job["finding_id"] == 3
    st.finish(3, "done", {"flags": []})
    assert st.take()["finding_id"] == 5  # type: ignore[index]
    # the process dies while 5 is running: a new one picks it up again
    st2 = State(tmp_path / "state.json")
    assert st2.counts() == {"done": 1, "queued": 1}
    assert st2.data["last_finding_id"] == 5
    assert st2.take()["finding_id"] == 5  # type: ignore[index]


def test_shuffled_weak_permutes_every_seed(tmp_path: Path) -> None:
    src = tmp_path / "public"
    (src / "weak").mkdir(parents=True)
    probs = [i / 100 for i in range(100)]
    for seed in (0, 1):
        (src / "weak" / f"seed{seed}.json").write_text(json.dumps({"seed": seed, "train_unlabel": probs}))
    got = shuffled_weak(src, random.Random(0))
    assert sorted(got) == [0, 1]
    for seed in (0, 1):
        assert sorted(got[seed]) == probs and got[seed] != probs  # marginals kept, items decoupled
    assert got[0] != got[1]
    assert json.loads((src / "weak" / "seed0.json").read_text())["train_unlabel"] == probs


def test_highest_server_recorded_pgr_is_verified_first(tmp_path: Path) -> None:
    st = State(tmp_path / "state.json")
    st.enqueue({"id": 1, "metrics": {"pgr": 0.2}}, claimed_pgr=0.5)
    st.enqueue({"id": 2, "metrics": {"pgr": 99.0}}, claimed_pgr=0.3)  # what the agent wrote is ignored
    st.enqueue({"id": 3, "metrics": {"pgr": 0.9}})
    assert [st.take()["finding_id"] for _ in range(3)] == [1, 2, 3]  # type: ignore[index]


def test_claims_the_public_screen_rejects_come_before_the_ones_that_need_runs(tmp_path: Path) -> None:
    """Screened out with no run (public PGR under the bar), they are closed first, so a grace period
    never ends with them pending behind the full checks; the rest keep their most-promising-first order."""
    st = State(tmp_path / "state.json")
    for fid, pgr in ((1, 0.7), (2, 0.1), (3, 0.6), (4, None), (5, -0.3)):
        st.enqueue({"id": fid}, claimed_pgr=pgr)
    assert [st.take(free_below=0.5)["finding_id"] for _ in range(5)] == [2, 5, 1, 3, 4]  # type: ignore[index]


def test_deferred_claims_resume_behind_the_claim_they_wait_for_or_after_the_build(tmp_path: Path) -> None:
    st = State(tmp_path / "state.json")
    for fid in (1, 2, 3):
        st.enqueue({"id": fid}, claimed_pgr=0.5)
    for _ in (1, 2, 3):
        assert st.take() is not None
    st.data["jobs"]["2"]["behind"] = 1  # 2 fell below 1's held-out mean while 1 was not closed yet
    st.data["jobs"]["1"]["provisional_pgr"] = 0.9
    for fid in (1, 2, 3):
        st.defer(fid)
    assert st.requeue_deferred(built=False) == 0  # the build is under way: all wait
    assert st.requeue_deferred(built=True) == 2  # built: 1 and 3 go back; 2 waits for 1 to close
    assert st.counts() == {"queued": 2, "deferred": 1}
    # a restart keeps who waits for whom
    st = State(tmp_path / "state.json")
    assert st.take()["finding_id"] == 1  # type: ignore[index]  # by its held-out mean, the best first
    assert st.requeue_deferred(built=True) == 0  # 1 is running
    st.finish(1, "done", {"status": "flagged"})
    assert st.requeue_deferred(built=False) == 1  # 1 is closed: 2 is checked again, build or no build
    assert st.data["jobs"]["2"]["status"] == "queued" and st.data["jobs"]["2"]["behind"] is None


def test_two_claims_waiting_on_each_other_both_resume_once_built(tmp_path: Path) -> None:
    """Checked at once, each of two claims can fall below the other's held-out mean and wait behind it: no
    claim would ever close. Both go back to the queue when the build is done."""
    st = State(tmp_path / "state.json")
    for fid in (1, 2):
        st.enqueue({"id": fid}, claimed_pgr=0.7)
        assert st.take() is not None
    st.data["jobs"]["1"].update(behind=2, provisional_pgr=0.7)
    st.data["jobs"]["2"].update(behind=1, provisional_pgr=0.7)
    for fid in (1, 2):
        st.defer(fid)
    assert st.requeue_deferred(built=False) == 0
    assert st.requeue_deferred(built=True) == 2 and st.counts() == {"queued": 2}


def test_a_claim_waiting_behind_another_is_no_bar(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from aar.overseer.worker import Overseer, OverseerConfig

    (tmp_path / "tasks").mkdir()
    ov = Overseer(None, OverseerConfig(run_dir=tmp_path / "run", tasks_root=tmp_path / "tasks"),  # type: ignore[arg-type]
                  SimpleNamespace(on_run=None))  # type: ignore[arg-type]
    for fid, pgr in ((1, 0.9), (2, 0.8)):
        ov.state.enqueue({"id": fid, "agent": f"a{fid}"}, claimed_pgr=pgr)
        ov.state.take()
        ov.state.data["jobs"][str(fid)]["provisional_pgr"] = pgr
        ov.state.defer(fid)
    assert ov.bar() == (0.9, 1)
    assert ov.bar(exclude=1) == (0.8, 2)
    ov.state.data["jobs"]["1"]["behind"] = 2  # 1 waits behind 2 (checked at the same time)
    assert ov.bar() == (0.8, 2)  # so 2 is not held behind 1 in turn
