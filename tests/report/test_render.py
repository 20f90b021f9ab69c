import json
import re
from html.parser import HTMLParser
from pathlib import Path

from aar import methods
from aar.report.assemble import build_report
from aar.report.render import render_markdown, write_report


class HTMLText(HTMLParser):
    """The visible text of a page (plots left out: their labels are drawn, not written)."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self._svg = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._svg += tag == "svg"
        for k, v in attrs:  # an image's alt text is what the Markdown shows in its place
            if k == "alt" and v:
                self.text.append(v)

    def handle_endtag(self, tag: str) -> None:
        self._svg -= tag == "svg"

    def handle_data(self, data: str) -> None:
        if not self._svg:
            self.text.append(data)


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


# -- what was found: distinct methods, the winner, insights, generalization ------------------------------

T0 = "2026-01-01T00:{:02d}:00"


def _idea(base: str, **changes: object) -> dict[str, str]:
    """A recipe idea: a real baseline's files with some recipe fields changed."""
    files = dict(methods.baseline_files()[base])
    cfg = json.loads(files["config.json"])
    files["config.json"] = json.dumps({**cfg, **changes}, indent=1)
    return files


def _claim(fid: int, agent: str, title: str, sid: str, status: str, pgr: float | None, **kw: object) -> dict:
    return {
        "kind": "claim",
        "finding_id": fid,
        "finding_ids": [fid],
        "agent": agent,
        "title": title,
        "task": "math",
        "snapshot_id": sid,
        "status": status,
        "verified_pgr": pgr,
        "verified_pgr_se": 0.01 if pgr is not None else None,
        "flags": [],
        "labels": [],
        **kw,
    }


def _run(kind: str, seed: int, pgr: float, task: str = "math", seconds: float = 10.0, **kw: object) -> dict:
    return {
        "kind": kind,
        "task": task,
        "draw": "heldout" if kind != "reproduce" else "main",
        "seed": seed,
        "n": 200,
        "accuracy": 0.7 + pgr / 10,
        "pgr": pgr,
        "agreement": kw.get("agreement"),
        "error": None,
        "seconds": seconds,
    }


def _found() -> dict:
    """A run where bob's verified claim and alice's earlier one are the same method (notes and the config
    name aside), dave's earlier copy of it is flagged, carol's other method is screened out."""
    winner = _idea("aux_confidence", aux_alpha=0.8, rounds=2, name="bob's bootstrap")
    same = {**_idea("aux_confidence", aux_alpha=0.8, rounds=2, name="alice's"), "NOTES.md": "my notes"}
    other = _idea("confident_only", name="carol")
    files = {"S-bob": winner, "S-alice": same, "S-dave": same | {"x.md": "copied"}, "S-carol": other}
    board = [
        _claim(5, "bob", "aux conf, two rounds", "S-bob", "verified", 0.62, generalization={"code": 0.4}),
        _claim(3, "alice", "stronger aux", "S-alice", "verified", 0.58, generalization={"code": 0.35}),
        {"kind": "baseline", "baseline": "aux_confidence", "status": "verified", "verified_pgr": 0.5},
        _claim(6, "carol", "confident only", "S-carol", "screened", 0.2),
        _claim(
            2,
            "dave",
            "copied early",
            "S-dave",
            "flagged",
            0.6,
            flags=["probing"],
            details={"why": {"probing": "the server's probing detector flagged this agent"}},
        ),
    ]
    findings = [
        {"id": i, "type": "result", "agent": a, "title": t, "task": "math", "created_at": T0.format(i)}
        for i, a, t in [
            (2, "dave", "copied early"),
            (3, "alice", "stronger aux"),
            (5, "bob", "aux conf, two rounds"),
            (6, "carol", "confident only"),
        ]
    ]
    findings += [
        {
            "id": 7,
            "type": "insight",
            "agent": "bob",
            "title": "rounds: 1 → 2 +0.030 PGR",
            "task": "math",
            "metrics": {"effect": 0.03, "p_value": 0.04, "n": 3.0, "discordant": 12.0},
        },
        {
            "id": 8,
            "type": "insight",
            "agent": "alice",
            "title": "aux_alpha: 0.5 → 0.8 +0.050 PGR",
            "task": "math",
            "metrics": {"effect": 0.05, "p_value": 0.001, "n": 3.0, "discordant": 30.0},
        },
        {"id": 9, "type": "insight", "agent": "carol", "title": "filters help (a hunch)", "task": "math"},
        {"id": 10, "type": "insight", "agent": "overseer", "title": "probing: dave", "task": "math"},
        {
            "id": 11,
            "type": "insight",
            "agent": "bob",
            "title": "on code only",
            "task": "code",
            "metrics": {"effect": 0.5, "p_value": 1e-6, "n": 3.0, "discordant": 40.0},
        },
    ]
    runs = [
        _run("reproduce", 0, 0.61, agreement=1.0),
        _run("heldout", 1, 0.64),
        _run("heldout", 0, 0.60),
        _run("shuffled_weak", 0, 0.1, seconds=12.0),
        _run("blank_strong", 0, 0.02, seconds=8.0),
        _run("generalization", 0, 0.4, task="code"),
    ]
    verifications = [
        {
            "id": 20,
            "finding_id": 5,
            "status": "verified",
            "task": "math",
            "verified_pgr": 0.62,
            "verified_pgr_se": 0.02,
            "ablation_pgr": 0.1,
            "blank_strong_pgr": 0.02,
            "blank_strong_accuracy": 0.6,
            "generalization": {"code": 0.4},
            "details": {"ablation_drop": 0.52},
            "runs": runs,
            "note": None,
        },
        {
            "id": 21,
            "finding_id": 6,
            "status": "screened",
            "task": "math",
            "verified_pgr": 0.2,
            "runs": [],
            "note": "screened: held-out PGR 0.200 on one seed, below the best verified 0.620 by more than x",
        },
        {
            "id": 22,
            "baseline": "aux_confidence",
            "task": "math",
            "status": "verified",
            "verified_pgr": 0.5,
            "runs": [],
            "note": "blank_strong not run: no twin",
        },
    ]
    baselines = [
        {
            "baseline": "vanilla_w2s",
            "status": "flagged",
            "verified_pgr": 0.3,
            "flags": ["beyond-strong"],
            "details": {"why": {"beyond-strong": "it knows answers the strong model does not"}},
        },
        {
            "baseline": "aux_confidence",
            "status": "verified",
            "verified_pgr": 0.5,
            "verified_pgr_se": 0.01,
            "ablation_pgr": 0.05,
            "generalization": {"code": 0.3, "world": 0.25},
        },
    ]
    return build_report(
        run_dir="/runs/x",
        task="math",
        board=board,
        baselines=baselines,
        submissions=[],
        cost={},
        findings=findings,
        verifications=verifications,
        files=files,
        baseline_ideas=methods.baseline_files(),
        threads=2,
    )


def test_identical_methods_are_one_row_credited_to_the_first_poster() -> None:
    data = _found()
    rows = data["methods"]
    assert [(m["rank"], m["agent"], m["status"]) for m in rows] == [
        (1, "alice", "verified"),
        (None, "carol", "screened"),
    ]
    top = rows[0]
    # the figures are the best claim's (bob's 0.62); alice posted the method first and takes the credit;
    # dave posted it even earlier but his copy is flagged: listed, never credited with a verified figure
    assert top["verified_pgr"] == 0.62 and top["figures_from"] == 5 and top["finding_id"] == 3
    assert [(a["agent"], a["status"]) for a in top["also_posted_by"]] == [
        ("dave", "flagged"),
        ("bob", "verified"),
    ]
    assert top["finding_ids"] == [2, 3, 5]
    assert [m["agent"] for m in data["screened_out"]] == ["carol"]
    assert "below the best verified 0.620" in data["screened_out"][0]["note"]
    assert data["claim_counts"] == {
        "claims": 4,
        "methods": 2,
        "by_status": {"verified": 2, "screened": 1, "flagged": 1},
    }


def test_the_winner_is_named_in_words_with_its_diff_and_evidence(tmp_path: Path) -> None:
    data = _found()
    win = data["winner"]
    assert win["agent"] == "alice" and win["closest_baseline"] == "aux_confidence"
    assert win["description"] == methods.describe_recipe(win["recipe"])
    assert "over 2 rounds of self-training" in win["description"]
    assert {c["field"]: (c["old"], c["new"]) for c in win["comparison"]["changes"]} == {
        "aux_alpha": (0.5, 0.8),
        "rounds": (1, 2),
    }
    assert '+ "aux_alpha": 0.8,' in win["comparison"]["diff"]
    assert win["closest_baseline_pgr"] == 0.5
    ev = win["evidence"]
    assert [(r["seed"], r["pgr"]) for r in ev["heldout"]] == [(0, 0.60), (1, 0.64)]
    assert [r["pgr"] for r in ev["shuffled_weak"]] == [0.1] and [r["pgr"] for r in ev["blank_strong"]] == [
        0.02
    ]
    assert [r["pgr"] for r in ev["generalization_runs"]["code"]] == [0.4]
    assert ev["cost"]["wall_seconds"] == 60.0 and ev["cost"]["cpu_seconds"] == 120.0
    paths = write_report(data, tmp_path)
    md = paths["report.md"].read_text()
    assert (
        md.index("**Winner: stronger aux**") < md.index("## The winning method") < md.index("## The evidence")
    )
    assert "also posted by dave (#2, flagged), bob (#5, verified)" in md
    assert "| 1 | 0.640 | 0.764 | 200 | – |" in md  # held-out seed 1
    assert "```diff\n" in md and '+ "rounds": 2,' in md
    assert "60.0 s of wall time in all, 120.0 CPU-seconds at 2 thread(s)" in md
    html = paths["report.html"].read_text()
    assert '<section id="winner">' in html and '<pre class="diff">' in html
    assert '<span class="add">+ &quot;rounds&quot;: 2,</span>' in html


def test_insights_sorted_by_p_then_effect_without_the_overseers_announcements() -> None:
    data = _found()
    assert [r["finding_id"] for r in data["insights"]] == [8, 7, 9]
    assert data["insights"][0]["effect"] == 0.05 and data["insights"][2]["p_value"] is None
    md = render_markdown(data)
    learned = md[md.index("## What the team learned") : md.index("## Methods")]
    assert learned.index("aux\\_alpha: 0.5 → 0.8") < learned.index("rounds: 1 → 2") < learned.index("hunch")
    assert "probing: dave" not in learned and "on code only" not in learned


def test_generalization_of_methods_and_baselines(tmp_path: Path) -> None:
    data = _found()
    g = data["generalization_matrix"]
    assert g["tasks"] == ["math", "code", "world"]
    by = {r["name"]: r["pgr"] for r in g["rows"]}
    assert by["baseline aux_confidence"] == {"math": 0.5, "code": 0.3, "world": 0.25}
    assert by["stronger aux (alice)"] == {"math": 0.62, "code": 0.4}
    paths = write_report(data, tmp_path)
    md = paths["report.md"].read_text()
    assert (
        "| aux\\_confidence | 0.500 ± 0.010 | 0.050 | – | 0.300 | 0.250 | blank\\_strong not run: no twin |"
        in md
    )
    svg = paths["generalization.svg"].read_text()
    assert svg.startswith("<svg") and "0.25" in svg and "–" in svg  # world not measured for the winner
    assert svg in paths["report.html"].read_text()


def test_flags_and_uncounted_baselines_carry_the_servers_reasons() -> None:
    data = _found()
    assert [b["name"] for b in data["baselines"]] == ["aux_confidence"]  # a flagged one is never "best"
    md = render_markdown(data)
    assert "- `vanilla_w2s`: flagged — beyond-strong: it knows answers the strong model does not" in md
    assert "| dave | probing | 2 | copied early: the server's probing detector flagged this agent |" in md


def test_markdown_and_html_carry_the_same_words(tmp_path: Path) -> None:
    paths = write_report(_found(), tmp_path)
    md = paths["report.md"].read_text()
    page = HTMLText()
    page.feed(paths["report.html"].read_text())
    md = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", md)  # markup, not content: image targets,
    md = re.sub(r"^(`{3,})\w+$", r"\1", md, flags=re.M)  # a fence's language
    words = set(re.findall(r"[A-Za-z0-9][\w.±+]*", md.replace("\\", "")))
    missing = words - set(re.findall(r"[A-Za-z0-9][\w.±+]*", " ".join(page.text)))
    assert not missing, sorted(missing)[:20]


def test_a_run_with_no_verified_claim_says_so(tmp_path: Path) -> None:
    board = [
        _claim(1, "eve", "too good", "S", "flagged", 0.9, flags=["unreproducible"]),
        _claim(2, "eve", "later", "S2", "screened", 0.1),
    ]
    data = build_report(run_dir="/r", task="math", board=board, baselines=[], submissions=[], cost={})
    assert data["winner"] is None and data["best_verified"] is None
    paths = write_report(data, tmp_path)
    md = paths["report.md"].read_text()
    assert (
        "**No claim was verified in this run.** 2 claims (2 distinct methods) were posted; "
        "by status: flagged 1, screened 1." in md
    )
    assert "Flags on the claims: unreproducible (1)" in md
    assert "## The winning method" not in md and "No insight was posted" in md
    assert "No claim was verified in this run." in paths["report.html"].read_text()
    empty = build_report(run_dir="/r", task="math", board=[], baselines=[], submissions=[], cost={})
    paths = write_report(empty, tmp_path)
    assert "No claim was verified in this run: no result was posted." in paths["report.md"].read_text()
    assert "<svg" in paths["generalization.svg"].read_text()


def test_agent_text_stays_text(tmp_path: Path) -> None:
    evil = "<script>alert(1)</script> | `x` [a](javascript:alert(1)) $\\frac$ **b**"
    board = [_claim(1, "mallory", evil, "S", "verified", 0.5, generalization={"code": 0.1})]
    findings = [
        {"id": 1, "type": "result", "agent": "mallory", "title": evil},
        {"id": 2, "type": "insight", "agent": "mallory", "title": evil, "metrics": {"effect": "x"}},
    ]
    data = build_report(
        run_dir="/r",
        task="math",
        board=board,
        baselines=[],
        submissions=[],
        cost={},
        findings=findings,
        files={"S": {"run.py": "```\n<b>\n"}},
    )
    paths = write_report(data, tmp_path)
    html = paths["report.html"].read_text()
    assert 'href="javascript' not in html and "<script>" not in html and "<b>" not in html
    md = paths["report.md"].read_text()
    row = next(line for line in md.splitlines() if line.startswith("| 1 | "))
    header = md.splitlines()[md.splitlines().index(row) - 2]
    assert row.count(" | ") == header.count(" | ")  # the title's "|" did not split a cell


def test_a_claim_screened_out_unrun_has_no_generalization_row() -> None:
    from aar.report.generalization import generalization_matrix

    rows = [
        {"title": "kept", "agent": "a", "status": "verified", "verified_pgr": 0.6,
         "generalization": {"code": 0.4}},
        {"title": "one seed", "agent": "b", "status": "screened", "verified_pgr": 0.2},
        {"title": "unrun", "agent": "c", "status": "screened", "verified_pgr": None},
    ]
    g = generalization_matrix("math", rows, [])
    assert [r["name"] for r in g["rows"]] == ["kept (a)", "one seed (b)"]


def test_the_summary_names_the_method_that_holds_up_best_across_tasks() -> None:
    from aar.report.assemble import most_general
    from aar.report.sections import summary_lines

    def row(fid: int, rank: int | None, pgr: float, gen: dict, status: str = "verified") -> dict:
        return {"finding_id": fid, "rank": rank, "agent": f"a{fid}", "title": f"m{fid}", "status": status,
                "verified_pgr": pgr, "generalization": gen}

    rows = [
        row(1, 1, 0.94, {"code": 0.21, "world": -0.11}),  # the winner: it does not carry over
        row(2, 2, 0.91, {"code": 0.84, "world": 0.91}),
        row(3, 3, 0.90, {"code": 0.95}),  # measured on fewer tasks: does not compete
        row(4, None, 0.99, {"code": 0.99, "world": 0.99}, status="screened"),
    ]
    wide = most_general(rows)
    assert wide is not None and wide["finding_id"] == 2 and wide["worst_pgr"] == 0.84
    lines = "\n".join(summary_lines({"winner": rows[0], "most_general": wide}))
    assert "`code` 0.210, `world` -0.110" in lines  # the winner's own generalization
    assert "Best across tasks" in lines and "**m2** by `a2` (finding #2), verified PGR 0.910" in lines
    # when the winner is also the best across tasks, nothing more is said
    assert "Best across tasks" not in "\n".join(summary_lines({"winner": rows[1], "most_general": wide}))
    assert most_general([row(1, 1, 0.9, {})]) is None


def test_a_claim_the_overseer_holds_for_the_build_is_shown_deferred(tmp_path: Path) -> None:
    board = [
        _claim(1, "ann", "held", "S1", "pending", None),
        _claim(2, "bo", "queued", "S2", "pending", None),
    ]
    data = build_report(
        run_dir="/r", task="math", board=board, baselines=[], submissions=[], cost={}, deferred={1}
    )
    assert {r["finding_id"]: r["status"] for r in data["leaderboard"]} == {1: "deferred", 2: "pending"}
    assert data["claim_counts"]["by_status"] == {"deferred": 1, "pending": 1}
    md = write_report(data, tmp_path)["report.md"].read_text()
    assert "by status: deferred 1, pending 1." in md and "`deferred`: not closed yet" in md
    plain = build_report(run_dir="/r", task="math", board=board, baselines=[], submissions=[], cost={})
    assert {r["status"] for r in plain["leaderboard"]} == {"pending"}
    assert "`deferred`" not in write_report(plain, tmp_path)["report.md"].read_text()
