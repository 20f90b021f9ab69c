"""Render a report dict (the content of leaderboard.json) to Markdown and HTML."""

from __future__ import annotations

import json
from pathlib import Path

from jinja2 import Environment, PackageLoader, Undefined, select_autoescape

from aar.report.plots import pgr_over_time_svg


def fmt(x: object, nd: int = 3) -> str:
    if x is None or isinstance(x, Undefined):
        return "–"
    if isinstance(x, float):
        return f"{x:.{nd}f}"
    return str(x)


def pm(mean: float | None, se: float | None) -> str:
    if mean is None or isinstance(mean, Undefined):
        return "–"
    return f"{mean:.3f} ± {se:.3f}" if isinstance(se, int | float) else f"{mean:.3f}"


def _md_table(headers: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(out)


def generalization_tasks(data: dict) -> list[str]:
    tasks: set[str] = set()
    for row in data.get("leaderboard", []) + data.get("baselines", []):
        tasks.update((row.get("generalization") or {}).keys())
    return sorted(tasks)


def summary_lines(data: dict) -> list[str]:
    best, base = data.get("best_verified"), data.get("best_baseline")
    lines = []
    if best:
        lines.append(
            f"Best verified result: **{best['title']}** by `{best['agent']}`, "
            f"verified PGR {pm(best['verified_pgr'], best.get('verified_pgr_se'))} on held-out data."
        )
    else:
        lines.append("No result has been verified without flags yet.")
    if base:
        lines.append(
            f"Best baseline (scored the same way): **{base['name']}**, "
            f"verified PGR {pm(base['verified_pgr'], base.get('verified_pgr_se'))}."
        )
    if data.get("margin") is not None:
        lines.append(
            f"The team beats the best baseline by **{data['margin']:+.3f} PGR** and closes "
            f"**{100 * data['gap_closed']:.0f}%** of the gap between the best baseline and 1.0."
        )
    return lines


def render_markdown(data: dict) -> str:
    gtasks = generalization_tasks(data)
    parts = [
        f"# aar run report — task `{data.get('main_task', '?')}`",
        "",
        f"Run directory: `{data.get('run_dir', '')}`  ",
        f"Generated: {data.get('generated_at', '')}",
        "",
    ]
    parts += summary_lines(data) + ["", "## Verified leaderboard", ""]
    rows = [
        [
            str(r.get("rank") or "–"),
            r["agent"],
            r["title"],
            fmt(r.get("public_pgr")),
            fmt(r.get("private_pgr")),
            pm(r.get("verified_pgr"), r.get("verified_pgr_se")),
            fmt(r.get("reproduce_agreement")),
            fmt(r.get("ablation_pgr")),
            *[fmt((r.get("generalization") or {}).get(t)) for t in gtasks],
            r.get("status", "pending"),
            ", ".join(r.get("flags") or []) or "–",
            ", ".join(r.get("labels") or []) or "–",
        ]
        for r in data.get("leaderboard", [])
    ]
    parts.append(
        _md_table(
            [
                "#",
                "agent",
                "result",
                "public PGR",
                "private PGR",
                "verified PGR",
                "reproduce",
                "shuffled-weak PGR",
                *[f"PGR {t}" for t in gtasks],
                "status",
                "flags",
                "labels",
            ],
            rows,
        )
    )
    parts += ["", "## Baselines (same verification path)", ""]
    parts.append(
        _md_table(
            ["baseline", "verified PGR", *[f"PGR {t}" for t in gtasks]],
            [
                [
                    b["name"],
                    pm(b.get("verified_pgr"), b.get("verified_pgr_se")),
                    *[fmt((b.get("generalization") or {}).get(t)) for t in gtasks],
                ]
                for b in data.get("baselines", [])
            ],
        )
    )
    parts += ["", "## PGR over time", "", "![PGR over time](pgr_over_time.svg)", ""]
    parts += ["## Flags", ""]
    flags = data.get("flags", [])
    parts.append(
        _md_table(
            ["agent", "flag", "finding", "detail"],
            [[f["agent"], f["flag"], str(f.get("finding_id") or "–"), f.get("detail", "")] for f in flags],
        )
        if flags
        else "No flags."
    )
    c = data.get("cost", {})
    parts += [
        "",
        "## Cost",
        "",
        _md_table(["quantity", "value"], [[k.replace("_", " "), fmt(v, 2)] for k, v in c.items()]),
        "",
    ]
    nodes = (data.get("compute_nodes") or {}).get("nodes") or {}
    if nodes:
        parts += ["## Compute per node", "", "CPU-seconds are measured (user + system time of each run's "
                  "sandboxed process tree), not wall time × threads.", "",
                  _md_table(["node", "agents", "agent runs", "overseer re-runs", "wall s", "CPU s", "GPU s"],
                            [[name, ", ".join(n.get("agents", [])) or "–", str(n["agent_runs"]),
                              str(n["overseer_runs"]), fmt(n["seconds"], 1), fmt(n["cpu_seconds"], 1),
                              fmt(n["gpu_seconds"], 1)] for name, n in nodes.items()]), ""]
    return "\n".join(parts)


def render_html(data: dict, svg: str) -> str:
    env = Environment(loader=PackageLoader("aar.report", "templates"), autoescape=select_autoescape(["html"]))
    env.filters["fmt"] = fmt
    env.globals["pm"] = pm
    tpl = env.get_template("report.html")
    return tpl.render(d=data, gtasks=generalization_tasks(data), summary=summary_lines(data), svg=svg)


def write_report(data: dict, run_dir: Path) -> dict[str, Path]:
    run_dir = Path(run_dir)
    best_base = (data.get("best_baseline") or {}).get("verified_pgr")
    pot = data.get("pgr_over_time", {})
    svg = pgr_over_time_svg(pot.get("agents", {}), pot.get("team", []), best_base)
    paths = {
        "leaderboard.json": run_dir / "leaderboard.json",
        "report.md": run_dir / "report.md",
        "report.html": run_dir / "report.html",
        "pgr_over_time.svg": run_dir / "pgr_over_time.svg",
    }
    paths["leaderboard.json"].write_text(json.dumps(data, indent=2, sort_keys=True))
    paths["report.md"].write_text(render_markdown(data))
    paths["pgr_over_time.svg"].write_text(svg)
    paths["report.html"].write_text(render_html(data, svg))
    return paths
