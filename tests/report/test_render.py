import json
from pathlib import Path

from aar.report.assemble import build_report
from aar.report.render import write_report


def _raw() -> dict:
    findings = [
        {
            "id": 1,
            "type": "result",
            "agent": "alice",
            "title": "aux conf",
            "task": "math",
            "submission_id": 10,
        },
        {"id": 2, "type": "result", "agent": "cheat", "title": "probed", "task": "math", "submission_id": 11},
        {"id": 3, "type": "insight", "agent": "bob", "title": "note"},
        {
            "id": 4,
            "type": "result",
            "agent": "bob",
            "title": "bootstrap",
            "task": "math",
            "submission_id": 12,
        },
    ]
    subs = [
        {
            "id": 10,
            "agent": "alice",
            "task": "math",
            "pgr": 0.5,
            "private_pgr": 0.48,
            "created_at": "2026-01-01T00:00:00",
        },
        {"id": 11, "agent": "cheat", "task": "math", "pgr": 0.9, "created_at": "2026-01-01T00:05:00"},
        {"id": 12, "agent": "bob", "task": "math", "pgr": 0.6, "created_at": "2026-01-01T00:10:00"},
    ]
    ver = [
        {
            "finding_id": 1,
            "status": "verified",
            "verified_pgr": 0.55,
            "verified_pgr_se": 0.02,
            "generalization": {"code": 0.3},
            "flags": [],
        },
        {"finding_id": 2, "status": "flagged", "verified_pgr": 0.95, "flags": ["probing"]},
        {"finding_id": 4, "status": "verified", "verified_pgr": 0.62, "verified_pgr_se": 0.01, "flags": []},
    ]
    base = [
        {"name": "naive", "verified_pgr": 0.4, "verified_pgr_se": 0.01, "generalization": {"code": 0.2}},
        {"name": "weak", "verified_pgr": 0.0},
    ]
    return dict(findings=findings, submissions=subs, verifications=ver, baselines=base)


def test_report_ranks_unflagged_and_writes_files(tmp_path: Path) -> None:
    data = build_report(
        run_dir=str(tmp_path), task="math", cost={"cpu_hours": 0.5, "evaluations": 3}, **_raw()
    )
    board = data["leaderboard"]
    assert [r["agent"] for r in board if r["rank"]] == ["bob", "alice"]
    cheat = next(r for r in board if r["agent"] == "cheat")
    assert cheat["rank"] is None and cheat["flags"] == ["probing"]
    assert abs(data["margin"] - 0.22) < 1e-9
    assert abs(data["gap_closed"] - 0.22 / 0.6) < 1e-9
    assert data["pgr_over_time"]["team"][-1] == [10.0, 0.9]
    paths = write_report(data, tmp_path)
    md = paths["report.md"].read_text()
    assert "+0.220 PGR" in md and "probing" in md and "naive" in md
    html = paths["report.html"].read_text()
    assert "<svg" in html and "bootstrap" in html and "probing" in html
    assert json.loads(paths["leaderboard.json"].read_text())["best_verified"]["agent"] == "bob"
