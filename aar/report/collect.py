"""Gather a run's records for the report: from the server (admin API) and run files (cost)."""

from __future__ import annotations

import json
from pathlib import Path

from aar import methods
from aar.report.assemble import build_report
from aar.report.subsets import collect_subsets
from aar.supervisor.export import pages as _pages
from aar.times import to_seconds
from aarlab.client import AarClient, AarClientError

NOT_A_METHOD = {"strong_ceiling"}  # ceilings are shown but never "the best baseline"


MAX_SNAPSHOTS = 500  # claims whose methods are read (the server's order: the best first)


def snapshot_files(client: AarClient, board: list[dict]) -> dict[str, methods.Files]:
    """The files of the claims' snapshots (bounded reads, nothing unpacked); one that cannot be fetched
    is left out (its claim then merges only by snapshot id and shows no recipe)."""
    out: dict[str, methods.Files] = {}
    for r in board:
        sid = r.get("snapshot_id")
        if r.get("kind") != "claim" or not sid or sid in out or len(out) >= MAX_SNAPSHOTS:
            continue
        try:
            out[sid] = methods.snapshot_files(client.snapshot_bytes(sid))
        except AarClientError:
            continue
    return out


def _jsonl_times(path: Path) -> list[dict]:
    out = []
    try:
        for line in path.read_text(errors="replace").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    except OSError:
        pass
    return out


def cost(run_dir: Path, submissions: list[dict], overseer_state: dict, threads: int) -> dict:
    agent_seconds = aar_seconds = 0.0
    tokens_in = tokens_out = 0
    dollars = 0.0
    usage_found = False
    for adir in sorted((run_dir / "agents").glob("*")):
        recs = _jsonl_times(adir / "audit.jsonl")
        agent_seconds += sum(float(r.get("seconds") or 0) for r in recs if r.get("tool") == "bash")
        times = [to_seconds(r["t"]) for r in recs if r.get("t") is not None]
        if len(times) > 1:
            aar_seconds += max(times) - min(times)
        usage = adir / "usage.json"
        if usage.exists():
            usage_found = True
            u = json.loads(usage.read_text())
            tokens_in += int(u.get("input_tokens", 0)) + int(u.get("cache_read_input_tokens", 0))
            tokens_in += int(u.get("cache_creation_input_tokens", 0))
            tokens_out += int(u.get("output_tokens", 0))
            dollars += float(u.get("dollars", 0.0))
    ov = overseer_state.get("compute", {})
    out = {
        "evaluations": len(submissions),
        "agent_cpu_hours": agent_seconds * threads / 3600.0,
        "overseer_cpu_hours": float(ov.get("cpu_seconds", 0.0)) / 3600.0,
        "overseer_reruns": int(ov.get("runs", 0)),
        "aar_hours": aar_seconds / 3600.0,
    }
    out["cpu_hours"] = out["agent_cpu_hours"] + out["overseer_cpu_hours"]
    if usage_found:
        out.update(tokens_in=tokens_in, tokens_out=tokens_out, dollars=dollars)
    return out


def collect(run_dir: Path, client: AarClient, task: str | None = None, threads: int = 1) -> dict:
    """The report's records: the verified leaderboard, verified baselines and probing flags as the server
    returns them; the overseer's state file only for its own accounting (re-run cost, queue) and for the
    claims it holds for the build (shown `deferred`)."""
    run_dir = Path(run_dir)
    state_path = run_dir / "overseer" / "state.json"
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    findings = _pages(client.findings, "id", 1000)
    submissions = _pages(client.submissions, "submission_id", 10_000)
    if task is None:
        tasks = [f.get("task") for f in findings if f.get("type") == "result"] or [
            s["task"] for s in submissions
        ]
        task = max(set(tasks), key=tasks.count) if tasks else "math"
    flags = client.probing()
    board = client.verified_leaderboard(task)
    starts = [to_seconds(s["created_at"]) for s in submissions]
    data = build_report(
        run_dir=str(run_dir),
        task=task,
        board=board,
        baselines=client.verified_baselines(task),
        submissions=submissions,
        cost=cost(run_dir, submissions, state, threads),
        agent_flags=flags,
        start=min(starts) if starts else None,
        not_methods=NOT_A_METHOD,
        findings=findings,
        verifications=_pages(client.verifications, "id", 10_000),
        files=snapshot_files(client, board),
        baseline_ideas=methods.baseline_files(),
        threads=threads,
        deferred={int(f) for f, j in state.get("jobs", {}).items() if j.get("status") == "deferred"},
    )
    data["overseer"] = {"jobs": _job_counts(state), "probing": flags}
    data["subsets"] = collect_subsets(client, task)
    from aar.cluster.costs import by_node

    data["compute_nodes"] = by_node(run_dir)
    return data


def _job_counts(state: dict) -> dict[str, int]:
    out: dict[str, int] = {}
    for j in state.get("jobs", {}).values():
        out[j["status"]] = out.get(j["status"], 0) + 1
    return out
