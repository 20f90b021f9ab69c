"""Which Ray node an agent ran on at a given time, from the head's placements.jsonl (the node the overseer
re-checks that agent's claims on)."""

from __future__ import annotations

from pathlib import Path

from aar.cluster.costs import node_id_at
from aar.cluster.executor import record_placement


def test_the_node_of_the_start_before_the_claim(tmp_path: Path) -> None:
    folder = tmp_path / "agents" / "alice"
    record_placement(folder, "n1", 0, 100.0, "id-1")
    record_placement(folder, "n2", 1, 200.0, "id-2")
    assert node_id_at(tmp_path, "alice", 150.0) == "id-1"
    assert node_id_at(tmp_path, "alice", 200.0) == "id-2"
    assert node_id_at(tmp_path, "alice", 999.0) == "id-2"
    assert node_id_at(tmp_path, "alice", 50.0) == "id-1"  # a clock a little behind: its first node
    record_placement(tmp_path / "agents" / "bob", "host", 0, 100.0)  # local executor: no Ray node
    assert node_id_at(tmp_path, "bob", 150.0) is None
    assert node_id_at(tmp_path, "nobody", 150.0) is None
