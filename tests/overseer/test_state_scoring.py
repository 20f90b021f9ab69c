import json
from pathlib import Path

from aar.overseer.scoring import shuffled_copy
from aar.overseer.state import State


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


def test_shuffled_copy_permutes_weak_labels_only(tmp_path: Path) -> None:
    src = tmp_path / "public"
    (src / "weak").mkdir(parents=True)
    probs = [i / 100 for i in range(100)]
    (src / "weak" / "seed0.json").write_text(
        json.dumps({"seed": 0, "train_unlabel": probs, "weak_test_acc": 0.6})
    )
    (src / "meta.json").write_text("{}")
    dst = shuffled_copy(src, tmp_path / "shuffled")
    got = json.loads((dst / "weak" / "seed0.json").read_text())["train_unlabel"]
    assert sorted(got) == probs and got != probs
    assert json.loads((src / "weak" / "seed0.json").read_text())["train_unlabel"] == probs
    assert (dst / "meta.json").exists()


def test_highest_server_recorded_pgr_is_verified_first(tmp_path: Path) -> None:
    st = State(tmp_path / "state.json")
    st.enqueue({"id": 1, "metrics": {"pgr": 0.2}}, claimed_pgr=0.5)
    st.enqueue({"id": 2, "metrics": {"pgr": 99.0}}, claimed_pgr=0.3)  # what the agent wrote is ignored
    st.enqueue({"id": 3, "metrics": {"pgr": 0.9}})
    assert [st.take()["finding_id"] for _ in range(3)] == [1, 2, 3]  # type: ignore[index]
