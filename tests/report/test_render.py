import json
from pathlib import Path

from aar.report.assemble import build_report
from aar.report.render import write_report


def _raw() -> dict:
    """What the server returns: its verified leaderboard (its order), verified baselines, probing flags."""
    board = [
        {
            "kind": "claim",
            "finding_id": 4,
            "agent": "bob",
            "title": "bootstrap",
            "task": "math",
            "status": "verified",
            "verified_pgr": 0.62,
            "verified_pgr_se": 0.01,
            "public_pgr": 0.6,
            "flags": [],
            "labels": ["teacher-independent"],
            "rank": 1,
        },
        {
            "kind": "claim",
            "finding_id": 1,
            "agent": "alice",
            "title": "aux conf",
            "task": "math",
            "status": "verified",
            "verified_pgr": 0.55,
            "verified_pgr_se": 0.02,
            "public_pgr": 0.5,
            "private_pgr": 0.48,
            "generalization": {"code": 0.3},
            "flags": [],
            "rank": 2,
        },
        {
            "kind": "baseline",
            "baseline": "naive",
            "task": "math",
            "status": "verified",
            "verified_pgr": 0.4,
            "rank": 3,
        },
        {
            "kind": "claim",
            "finding_id": 2,
            "agent": "cheat",
            "title": "probed",
            "task": "math",
            "status": "flagged",
            "verified_pgr": 0.95,
            "public_pgr": 0.9,
            "flags": ["probing"],
            "rank": None,
        },
    ]
    base = [
        {
            "baseline": "naive",
            "status": "verified",
            "verified_pgr": 0.4,
            "verified_pgr_se": 0.01,
            "generalization": {"code": 0.2},
        },
        {"baseline": "weak", "status": "verified", "verified_pgr": 0.0},
    ]
    subs = [
        {
            "submission_id": 10,
            "agent": "alice",
            "task": "math",
            "pgr": 0.5,
            "created_at": "2026-01-01T00:00:00",
        },
        {
            "submission_id": 11,
            "agent": "cheat",
            "task": "math",
            "pgr": 0.9,
            "created_at": "2026-01-01T00:05:00",
        },
        {
            "submission_id": 12,
            "agent": "bob",
            "task": "math",
            "pgr": 0.6,
            "created_at": "2026-01-01T00:10:00",
        },
    ]
    flags = [{"agent": "cheat", "flag": "probing", "task": "math", "signatures": ["differential"]}]
    return dict(board=board, baselines=base, submissions=subs, agent_flags=flags)


def test_report_renders_the_servers_board_and_writes_files(tmp_path: Path) -> None:
    data = build_report(
        run_dir=str(tmp_path), task="math", cost={"cpu_hours": 0.5, "evaluations": 3}, **_raw()
    )
    board = data["leaderboard"]
    assert [r["agent"] for r in board if r["rank"]] == ["bob", "alice"]  # claims only, the server's order
    cheat = next(r for r in board if r["agent"] == "cheat")
    assert cheat["rank"] is None and cheat["flags"] == ["probing"] and cheat["status"] == "flagged"
    assert [b["name"] for b in data["baselines"]] == ["naive", "weak"]
    assert abs(data["margin"] - 0.22) < 1e-9
    assert abs(data["gap_closed"] - 0.22 / 0.6) < 1e-9
    assert data["pgr_over_time"]["team"][-1] == [10.0, 0.9]
    assert {(f["agent"], f["flag"]) for f in data["flags"]} == {("cheat", "probing")}
    paths = write_report(data, tmp_path)
    md = paths["report.md"].read_text()
    assert "+0.220 PGR" in md and "probing" in md and "naive" in md and "teacher-independent" in md
    html = paths["report.html"].read_text()
    assert "<svg" in html and "bootstrap" in html and "probing" in html
    assert json.loads(paths["leaderboard.json"].read_text())["best_verified"]["agent"] == "bob"
