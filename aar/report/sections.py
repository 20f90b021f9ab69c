"""The report's sections as Markdown, in order: (html id, Markdown). report.md is their concatenation and
report.html renders each one (`render.py`), so both carry the same content.

Titles, names and notes come from agents: every such string goes through `text()` (Markdown punctuation
escaped, one line) or into a fenced block whose fence is longer than any backtick run inside it."""

from __future__ import annotations

import json
import re

from aar.report.subsets import subsets_markdown

_SPECIAL = re.compile(r"([\\`*_\[\]<>|~!#])")


def text(x: object) -> str:
    """Agent-written text as inert Markdown on one line."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(x).split()))


def code(x: object) -> str:
    """Agent-written text as a one-line code span (literal there: no escapes; a backtick or `|` would end the
    span or a table cell, so they are shown as ' and ¦)."""
    return "`" + " ".join(str(x).split()).replace("`", "'").replace("|", "¦") + "`"


def fmt(x: object, nd: int = 3) -> str:
    if x is None:
        return "–"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, float):
        return f"{x:.{nd}f}"
    return str(x)


def pm(mean: float | None, se: float | None) -> str:
    if mean is None:
        return "–"
    return f"{mean:.3f} ± {se:.3f}" if isinstance(se, int | float) else f"{mean:.3f}"


def fence(body: str, lang: str = "") -> str:
    runs = [len(m) for m in re.findall(r"`+", body)]
    tick = "`" * max(3, max(runs, default=0) + 1)
    return f"{tick}{lang}\n{body if body.endswith(chr(10)) else body + chr(10)}{tick}"


def table(headers: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(rows_cell for rows_cell in r) + " |" for r in rows]
    return "\n".join(out)


def generalization_tasks(data: dict) -> list[str]:
    tasks: set[str] = set()
    for row in data.get("leaderboard", []) + data.get("baselines", []) + data.get("methods", []):
        tasks.update((row.get("generalization") or {}).keys())
    return sorted(tasks)


def _who(m: dict) -> str:
    return f"{code(m['agent'])} (finding #{m['finding_id']})"


def _also(m: dict) -> str:
    also = m.get("also_posted_by") or []
    return ", ".join(f"{text(a['agent'])} (#{a['finding_id']}, {a['status']})" for a in also) or "–"


def summary_lines(data: dict) -> list[str]:
    best, base, win = data.get("best_verified"), data.get("best_baseline"), data.get("winner")
    lines = []
    if win:
        ev = win.get("evidence") or {}
        seeds = [r for r in ev.get("heldout", []) if r.get("pgr") is not None]
        n_seeds = f" ({len(seeds)} seed{'s' * (len(seeds) != 1)})" if seeds else ""
        lines.append(
            f"**Winner: {text(win['title'])}** by {_who(win)}, verified PGR "
            f"**{pm(win['verified_pgr'], win.get('verified_pgr_se'))}** on the held-out draw{n_seeds}."
        )
        if win.get("description"):
            lines.append(f"In words: {text(win['description'])}")
        gen = win.get("generalization") or {}
        if gen:
            lines.append("On the tasks no agent worked on: " + ", ".join(
                f"{code(t)} {v:.3f}" if v is not None else f"{code(t)} –" for t, v in sorted(gen.items())
            ) + ".")
        if win.get("also_posted_by"):
            lines.append(f"The same method was also posted by {_also(win)}.")
    elif best:
        lines.append(
            f"Best verified result: **{text(best['title'])}** by {code(best['agent'])}, "
            f"verified PGR {pm(best['verified_pgr'], best.get('verified_pgr_se'))} on held-out data."
        )
    else:
        counts = data.get("claim_counts") or {}
        n = counts.get("claims", len(data.get("leaderboard", [])))
        if not n:
            lines.append("**No claim was verified in this run: no result was posted.**")
        else:
            by = counts.get("by_status") or {}
            parts = ", ".join(f"{k} {v}" for k, v in sorted(by.items()))
            k = counts.get("methods", n)
            lines.append(
                f"**No claim was verified in this run.** {n} claim{'s' * (n != 1)} "
                f"({k} distinct method{'s' * (k != 1)}) {'were' if n != 1 else 'was'} posted; "
                f"by status: {parts}."
            )
            flagged: dict[str, int] = {}
            for r in data.get("leaderboard", []):
                for f in r.get("flags") or []:
                    flagged[f] = flagged.get(f, 0) + 1
            if flagged:
                why = ", ".join(f"{f} ({c})" for f, c in sorted(flagged.items()))
                lines.append(f"Flags on the claims: {why}; see the flags section for each one.")
    wide = data.get("most_general")
    if win and wide and wide.get("finding_id") != win.get("finding_id"):
        gen = ", ".join(f"{code(t)} {v:.3f}" for t, v in sorted((wide.get("generalization") or {}).items()))
        lines.append(
            f"Best across tasks (the highest worst-task PGR among the verified methods): "
            f"**{text(wide['title'])}** by {_who(wide)}, verified PGR {wide['verified_pgr']:.3f}; {gen}."
        )
    if base:
        lines.append(
            f"Best baseline (scored the same way): **{text(base['name'])}**, "
            f"verified PGR {pm(base['verified_pgr'], base.get('verified_pgr_se'))}."
        )
    if data.get("margin") is not None:
        lines.append(
            f"The team beats the best baseline by **{data['margin']:+.3f} PGR** and closes "
            f"**{100 * data['gap_closed']:.0f}%** of the gap between the best baseline and 1.0."
        )
    return lines


def header(data: dict) -> str:
    return "\n".join(
        [
            f"# aar run report — task {code(data.get('main_task', '?'))}",
            "",
            f"Run directory: `{data.get('run_dir', '')}`  ",
            f"Generated: {data.get('generated_at', '')}",
            "",
            "## What was found",
            "",
            "\n\n".join(summary_lines(data)),
        ]
    )


def _verified(pgr: float | None) -> str:
    return f"verified PGR {pgr:.3f}" if pgr is not None else "not verified in this run"


def winner_md(win: dict) -> str:
    out = ["## The winning method", ""]
    out.append(f"**{text(win['title'])}** by {_who(win)}; snapshot `{win.get('snapshot_id') or '–'}`.")
    if win.get("description") is None:
        out += ["", "Its snapshot could not be read from the server: no recipe or code is shown."]
        return "\n".join(out)
    out += ["", text(win["description"])]
    if win.get("recipe") is not None:
        out += [
            "",
            "Recipe (`config.json`, its name left out):",
            "",
            fence(json.dumps(win["recipe"], indent=1), "json"),
        ]
    else:
        out += ["", f"Files: {', '.join(f'{code(f)}' for f in win.get('files') or [])}."]
    near = win.get("closest_baseline")
    if near is None:
        out += ["", "No baseline idea to compare it with."]
        return "\n".join(out)
    out += [
        "",
        f"### Against the closest baseline idea: `{near}`",
        "",
        f"`{near}` ({_verified(win.get('closest_baseline_pgr'))}): "
        f"{text(win.get('closest_baseline_description') or '')}",
    ]
    cmp = win.get("comparison") or {}
    changes = cmp.get("changes") or []
    if changes:
        out += [
            "",
            table(
                ["recipe field", f"`{near}`", "winner"],
                [
                    [f"`{c['field']}`", text(json.dumps(c["old"])), text(json.dumps(c["new"]))]
                    for c in changes
                ],
            ),
        ]
    d = cmp.get("diff") or ""
    if d:
        out += [
            "",
            "Unified diff (notes left out; `config.json` canonical, defaults filled in):",
            "",
            fence(d, "diff"),
        ]
        if win.get("diff_lines_left_out"):
            out.append(f"({win['diff_lines_left_out']} more diff lines not shown.)")
    else:
        out += ["", f"Its method files are identical to `{near}`'s (recipe fields it ignores left out)."]
    return "\n".join(out)


def evidence_md(ev: dict | None) -> str:
    out = ["## The evidence", ""]
    if not ev:
        return "\n".join([*out, "No verification record was found for this claim."])
    out.append(f"From verification #{ev.get('verification_id')} (status {ev.get('status')}) of the server.")
    held = ev.get("heldout") or []
    out += ["", "### Held-out seeds", ""]
    if held:
        out.append(
            table(
                ["seed", "PGR", "accuracy", "test items", "error"],
                [
                    [fmt(r["seed"]), fmt(r["pgr"]), fmt(r["accuracy"]), fmt(r["n"]), text(r["error"] or "–")]
                    for r in held
                ],
            )
        )
        out += [
            "",
            f"Mean ± s.e. over the seeds: **{pm(ev.get('verified_pgr'), ev.get('verified_pgr_se'))}**.",
        ]
    else:
        out.append("No held-out run on record.")
    reps = ev.get("reproduce") or []
    if reps:
        out += [
            "",
            "### Reproduction",
            "",
            table(
                ["seed", "agreement with the submitted predictions", "error"],
                [[fmt(r["seed"]), fmt(r["agreement"]), text(r["error"] or "–")] for r in reps],
            ),
        ]
    out += ["", "### Ablations", ""]
    rows = []
    for r in ev.get("shuffled_weak") or []:
        rows.append(["shuffled weak labels", fmt(r["seed"]), fmt(r["pgr"]), fmt(r["accuracy"])])
    for r in ev.get("blank_strong") or []:
        rows.append(["knowledge-removed strong model", fmt(r["seed"]), fmt(r["pgr"]), fmt(r["accuracy"])])
    out.append(table(["run", "seed", "PGR", "accuracy"], rows) if rows else "No ablation run on record.")
    why = ev.get("why") or {}
    if ev.get("ablation_pgr") is not None:
        drop = ev.get("ablation_drop")
        verdict = why.get("teacher-independent") or "the method depends on the weak supervisor"
        out += [
            "",
            f"Shuffling the weak labels: PGR {fmt(ev['ablation_pgr'])}"
            f"{f' (drop {drop:.3f})' if isinstance(drop, int | float) else ''}: {text(verdict)}.",
        ]
    if ev.get("blank_strong_pgr") is not None or ev.get("blank_strong_accuracy") is not None:
        verdict = (
            why.get("solver")
            or "no better than the weak supervisor: it does not read the answer from the text"
        )
        out += [
            "",
            f"Knowledge-removed strong model: accuracy {fmt(ev.get('blank_strong_accuracy'))}, "
            f"PGR {fmt(ev.get('blank_strong_pgr'))}: {text(verdict)}.",
        ]
    gen = ev.get("generalization_runs") or {}
    out += ["", "### Generalization to the other tasks", ""]
    if gen:
        out.append(
            table(
                ["task", "seed", "PGR", "accuracy"],
                [
                    [text(t), fmt(r["seed"]), fmt(r["pgr"]), fmt(r["accuracy"])]
                    for t, rs in gen.items()
                    for r in rs
                ],
            )
        )
    else:
        out.append("Not measured (no generalization run on record).")
    c = ev.get("cost") or {}
    out += ["", "### Cost of the verification", ""]
    kinds = ", ".join(f"{k} {v:.1f} s" for k, v in sorted((c.get("wall_seconds_by_kind") or {}).items()))
    wall, cpu = fmt(c.get("wall_seconds"), 1), fmt(c.get("cpu_seconds"), 1)
    if not c.get("runs"):
        out.append("No re-run on record.")
    elif not c.get("timed_runs"):
        out.append(f"{c['runs']} re-runs; their times are not on record.")
    else:
        out.append(
            f"{c.get('runs', 0)} re-runs ({c.get('timed_runs', 0)} timed): {wall} s of wall time in all, "
            f"{cpu} CPU-seconds at {c.get('threads_per_run', 1)} thread(s) per re-run"
            f"{'; ' + kinds if kinds else ''}."
        )
    if ev.get("note"):
        out += ["", f"Overseer's note: {text(ev['note'])}"]
    for e in ev.get("errors") or []:
        out += ["", f"Run error: {text(e)}"]
    return "\n".join(out)


def insights_md(data: dict) -> str:
    rows = data.get("insights") or []
    out = ["## What the team learned", ""]
    if not rows:
        return "\n".join([*out, "No insight was posted to the forum."])
    out.append(
        "Insights posted to the forum, paired tests first (smallest p-value, then largest effect); "
        "effect in PGR, n = seeds of the paired test, discordant = items the two methods label differently."
    )
    out += [
        "",
        table(
            ["#", "insight", "by", "effect", "p", "n", "discordant"],
            [
                [
                    str(r["finding_id"]),
                    text(r["title"]),
                    text(r["agent"]),
                    fmt(r["effect"]),
                    fmt(r["p_value"], 3)
                    if r["p_value"] is None or r["p_value"] >= 1e-3
                    else f"{r['p_value']:.1e}",
                    fmt(r["n"], 0),
                    fmt(r["discordant"], 1),
                ]
                for r in rows
            ],
        ),
    ]
    return "\n".join(out)


def methods_md(data: dict, gtasks: list[str]) -> str:
    rows = data.get("methods") or []
    out = ["## Methods (one row per distinct method)", ""]
    if not rows:
        return "\n".join([*out, "No claim was posted."])
    out.append(
        "Claims with the same code and recipe are one method, credited to its first poster; "
        "the figures are those of its best claim's verification."
    )
    if any(m.get("status") == "deferred" for m in rows):
        out.append(
            "`deferred`: not closed yet; checked on the main task (reproduced, every held-out seed, shuffled "
            "weak labels), its knowledge-removed and generalization runs wait for the held-out tasks' build."
        )
    out += [
        "",
        table(
            [
                "#",
                "method",
                "by",
                "also posted by",
                "status",
                "verified PGR",
                "public PGR",
                "private PGR",
                "reproduce",
                "shuffled-weak PGR",
                "knowledge-removed PGR",
                *[f"PGR {text(t)}" for t in gtasks],
                "flags",
                "labels",
            ],
            [
                [
                    str(m.get("rank") or "–"),
                    text(m["title"]),
                    text(m["agent"]),
                    _also(m),
                    m["status"],
                    pm(m.get("verified_pgr"), m.get("verified_pgr_se")),
                    fmt(m.get("public_pgr")),
                    fmt(m.get("private_pgr")),
                    fmt(m.get("reproduce_agreement")),
                    fmt(m.get("ablation_pgr")),
                    fmt(m.get("blank_strong_pgr")),
                    *[fmt((m.get("generalization") or {}).get(t)) for t in gtasks],
                    ", ".join(m.get("flags") or []) or "–",
                    ", ".join(m.get("labels") or []) or "–",
                ]
                for m in rows
            ],
        ),
    ]
    screened = data.get("screened_out") or []
    out += ["", "### Screened out", ""]
    if screened:
        out += [
            f"- {text(m['title'])} by {_who(m)}: {text(m.get('note') or 'no reason recorded')}"
            for m in screened
        ]
    else:
        out.append("No claim was screened out.")
    return "\n".join(out)


def generalization_md(data: dict) -> str:
    g = data.get("generalization_matrix") or {}
    out = ["## Generalization (PGR on each task's held-out draw)", ""]
    rows = g.get("rows") or []
    if not rows:
        return "\n".join([*out, "No method or baseline was verified or screened."])
    tasks = g["tasks"]
    out.append(
        f"The main task is {code(tasks[0])}; the other columns are the same idea re-run, unchanged, "
        "on tasks no agent worked on. – : not measured."
    )
    out += [
        "",
        table(
            ["method", "status", *[f"{code(t)}" for t in tasks]],
            [[text(r["name"]), r["status"] or "–", *[fmt(r["pgr"].get(t)) for t in tasks]] for r in rows],
        ),
    ]
    out += ["", "![Generalization](generalization.svg)"]
    return "\n".join(out)


def _uncounted(data: dict) -> list[str]:
    rows = data.get("baselines_not_counted") or []
    if not rows:
        return []
    out = ["", "Not counted (not verified):", ""]
    for b in rows:
        why = "; ".join(f"{f}: {b['why'].get(f, 'no reason recorded')}" for f in b.get("flags") or [])
        out.append(f"- {code(b['name'])}: {b.get('status') or 'pending'}{' — ' + text(why) if why else ''}")
    return out


def baselines_md(data: dict, gtasks: list[str]) -> str:
    out = ["## Baselines (same verification path)", ""]
    base = data.get("baselines") or []
    if not base:
        return "\n".join([*out, "No baseline was verified.", *_uncounted(data)])
    out.append(
        table(
            [
                "baseline",
                "verified PGR",
                "shuffled-weak PGR",
                "knowledge-removed PGR",
                *[f"PGR {text(t)}" for t in gtasks],
                "note",
            ],
            [
                [
                    text(b["name"]),
                    pm(b.get("verified_pgr"), b.get("verified_pgr_se")),
                    fmt(b.get("ablation_pgr")),
                    fmt(b.get("blank_strong_pgr")),
                    *[fmt((b.get("generalization") or {}).get(t)) for t in gtasks],
                    text(b.get("note") or "–"),
                ]
                for b in base
            ],
        )
    )
    return "\n".join([*out, *_uncounted(data)])


def flags_md(data: dict) -> str:
    flags = data.get("flags", [])
    body = (
        table(
            ["agent", "flag", "finding", "detail"],
            [
                [
                    text(f["agent"]),
                    text(f["flag"]),
                    str(f.get("finding_id") or "–"),
                    text(f.get("detail", "")),
                ]
                for f in flags
            ],
        )
        if flags
        else "No flags."
    )
    return "\n".join(["## Flags", "", body])


def cost_md(data: dict) -> str:
    c = data.get("cost", {})
    return "\n".join(
        [
            "## Cost of the run",
            "",
            table(["quantity", "value"], [[k.replace("_", " "), fmt(v, 2)] for k, v in c.items()]),
        ]
    )


def nodes_md(data: dict) -> str | None:
    """Compute per node (runs on a cluster): measured CPU-seconds, not wall time x threads."""
    nodes = (data.get("compute_nodes") or {}).get("nodes") or {}
    if not nodes:
        return None
    rows = [
        [text(name), text(", ".join(n.get("agents", [])) or "–"), str(n["agent_runs"]),
         str(n["overseer_runs"]), fmt(n["seconds"], 1), fmt(n["cpu_seconds"], 1), fmt(n["gpu_seconds"], 1)]
        for name, n in nodes.items()
    ]
    return "\n".join([
        "## Compute per node", "",
        "CPU-seconds are measured (user + system time of each run's sandboxed process tree), not wall time × "
        "threads.", "",
        table(["node", "agents", "agent runs", "overseer re-runs", "wall s", "CPU s", "GPU s"], rows),
    ])


def sections(data: dict) -> list[tuple[str, str]]:
    gtasks = generalization_tasks(data)
    out = [("summary", header(data))]
    win = data.get("winner")
    if win:
        out += [("winner", winner_md(win)), ("evidence", evidence_md(win.get("evidence")))]
    out += [
        ("insights", insights_md(data)),
        ("methods", methods_md(data, gtasks)),
        ("generalization", generalization_md(data)),
        ("baselines", baselines_md(data, gtasks)),
    ]
    sub = subsets_markdown(data)
    if sub:
        out.append(("subsets", "\n".join(sub).strip("\n")))
    out += [
        ("pgr-over-time", "## PGR over time\n\n![PGR over time](pgr_over_time.svg)"),
        ("flags", flags_md(data)),
        ("cost", cost_md(data)),
    ]
    nodes = nodes_md(data)
    if nodes:
        out.append(("nodes", nodes))
    return out
