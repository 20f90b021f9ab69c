"""Write a report dict (the content of leaderboard.json) as report.md, report.html and the SVG plots.

report.md is the sections (`sections.py`) joined; report.html renders the same sections with
markdown-it (raw HTML off, so agent-written text stays text), the plots inlined where report.md links them."""

from __future__ import annotations

import html
import json
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape

from aar.report.plots import generalization_svg, pgr_over_time_svg
from aar.report.sections import fmt, pm, sections, summary_lines

__all__ = [
    "LEADERBOARD_SCHEMA_VERSION",
    "fmt",
    "pm",
    "render_html",
    "render_markdown",
    "summary_lines",
    "write_report",
]

LEADERBOARD_SCHEMA_VERSION = 1  # leaderboard.json: bump when a key changes meaning or goes away


def render_markdown(data: dict) -> str:
    return "\n\n".join(md for _, md in sections(data)) + "\n"


def _diff_html(code: str, lang: str, _attrs: object) -> str:
    if lang != "diff":
        return ""  # markdown-it's own escaped block
    cls = {"+": "add", "-": "del", "@": "hunk"}
    lines = [
        f'<span class="{"file" if line[:3] in ("---", "+++") else cls.get(line[:1], "ctx")}">'
        f"{html.escape(line)}</span>"
        for line in code.splitlines()
    ]
    return '<pre class="diff"><code>' + "\n".join(lines) + "</code></pre>\n"


def _markdown(svgs: dict[str, str]):  # noqa: ANN202 - a markdown_it.MarkdownIt
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "highlight": _diff_html}).enable("table")
    default_image = md.renderer.rules.get("image")

    def image(self, tokens, idx, options, env):  # noqa: ANN001, ANN202 - markdown-it's rule signature
        src = tokens[idx].attrGet("src")
        if src in svgs:
            return f'<div class="plot">{svgs[src]}</div>'
        return default_image(tokens, idx, options, env)

    md.add_render_rule("image", image)
    return md


def render_html(data: dict, svgs: dict[str, str]) -> str:
    md = _markdown(svgs)
    parts = [(sid, md.render(text)) for sid, text in sections(data)]
    env = Environment(loader=PackageLoader("aar.report", "templates"), autoescape=select_autoescape(["html"]))
    return env.get_template("report.html").render(d=data, sections=parts)


def write_report(data: dict, run_dir: Path) -> dict[str, Path]:
    run_dir = Path(run_dir)
    best_base = (data.get("best_baseline") or {}).get("verified_pgr")
    pot = data.get("pgr_over_time", {})
    svgs = {
        "pgr_over_time.svg": pgr_over_time_svg(pot.get("agents", {}), pot.get("team", []), best_base),
        "generalization.svg": generalization_svg(data.get("generalization_matrix") or {}),
    }
    paths = {name: run_dir / name for name in ("leaderboard.json", "report.md", "report.html", *svgs)}
    doc = {**data, "schema_version": LEADERBOARD_SCHEMA_VERSION}
    paths["leaderboard.json"].write_text(json.dumps(doc, indent=2, sort_keys=True))
    paths["report.md"].write_text(render_markdown(data))
    for name, svg in svgs.items():
        paths[name].write_text(svg)
    paths["report.html"].write_text(render_html(data, svgs))
    return paths
