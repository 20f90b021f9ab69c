"""One report row per distinct method: the server's claims (already one per snapshot) merged again when
their snapshots hold the same method (`aar.methods.method_key`: same code and recipe, names and notes aside).

A merged row shows the figures of its best claim (the server's order: verified by PGR first) and is credited
to the earliest poster among the claims with that claim's status (a flagged copy never takes the credit for a
verified figure); everyone else who posted it is listed with the status of their own claim.
"""

from __future__ import annotations

from aar import methods
from aar.times import to_seconds

FIGURES = (
    "status",
    "verified_pgr",
    "verified_pgr_se",
    "reproduce_agreement",
    "ablation_pgr",
    "blank_strong_pgr",
    "generalization",
    "flags",
    "labels",
    "public_pgr",
    "private_pgr",
    "task",
)


def _when(poster: dict, fid: int) -> tuple[float, int]:
    t = poster.get("created_at")
    return (to_seconds(t) if t is not None else float("inf"), fid)


def group_key(row: dict, files: methods.Files | None) -> str:
    if files is not None and "(unreadable)" not in files:
        return "method:" + methods.method_key(files)
    if row.get("snapshot_id"):
        return "snapshot:" + str(row["snapshot_id"])
    return f"finding:{row.get('finding_id')}"


def distinct_methods(
    claims: list[dict],
    files: dict[str, methods.Files],
    posters: dict[int, dict],
    notes: dict[int, str | None] | None = None,
) -> list[dict]:
    """`claims`: `assemble.claim_rows` (the server's order); `files`: snapshot id -> its files (missing when
    unreadable); `posters`: finding id -> its forum row (agent, title, created_at); `notes`: finding id ->
    the close note of its verification (why a claim was screened out, what was not run)."""
    notes = notes or {}
    groups: dict[str, list[dict]] = {}
    for r in claims:
        groups.setdefault(group_key(r, files.get(r.get("snapshot_id") or "")), []).append(r)
    out: list[dict] = []
    rank = 0
    for key, rows in groups.items():
        best = rows[0]
        peers = [r for r in rows if r["status"] == best["status"]]
        credited = min(peers, key=lambda r: _when(posters.get(r["finding_id"], {}), r["finding_id"]))
        status_of = {fid: r["status"] for r in rows for fid in r.get("finding_ids") or [r["finding_id"]]}
        also = []
        for fid in sorted(status_of, key=lambda f: _when(posters.get(f, {}), f)):
            if fid == credited["finding_id"]:
                continue
            p = posters.get(fid, {})
            also.append(
                {
                    "finding_id": fid,
                    "agent": p.get("agent") or "?",
                    "title": p.get("title") or "",
                    "status": status_of[fid],
                }
            )
        ranked = best["status"] == "verified" and best.get("verified_pgr") is not None
        rank += ranked
        snap_files = files.get(credited.get("snapshot_id") or "") or files.get(best.get("snapshot_id") or "")
        out.append(
            {
                "key": key,
                "rank": rank if ranked else None,
                "agent": credited["agent"],
                "finding_id": credited["finding_id"],
                "title": credited["title"],
                "snapshot_id": credited.get("snapshot_id"),
                "figures_from": best["finding_id"],
                "finding_ids": sorted(status_of),
                "also_posted_by": also,
                "description": methods.describe(snap_files, credited["title"]) if snap_files else None,
                "note": notes.get(best["finding_id"]),
                **{k: best.get(k) for k in FIGURES},
            }
        )
    return out
