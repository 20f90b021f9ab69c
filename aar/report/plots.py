"""PGR over time per agent and for the team, as an SVG string (matplotlib, Agg backend)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def pgr_over_time_svg(
    series: dict[str, list[list[float]]],
    team: list[list[float]],
    baseline: float | None = None,
    title: str = "PGR over time",
) -> str:
    """`series`: agent -> [[minutes, best PGR so far], ...]; `team`: the same for the whole team."""
    fig, ax = plt.subplots(figsize=(7.5, 4.0), dpi=100)
    for agent, pts in sorted(series.items()):
        if pts:
            xs, ys = zip(*pts, strict=True)
            ax.step(xs, ys, where="post", linewidth=1.0, alpha=0.7, label=agent)
    if team:
        xs, ys = zip(*team, strict=True)
        ax.step(xs, ys, where="post", linewidth=2.5, color="black", label="team (best)")
    if baseline is not None:
        ax.axhline(baseline, color="tab:red", linestyle="--", linewidth=1.2, label="best baseline")
    ax.set_xlabel("minutes since start")
    ax.set_ylabel("PGR (best so far)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if series or team:
        ax.legend(fontsize=7, ncol=2, loc="lower right")
    buf = io.StringIO()
    fig.tight_layout()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.find("<svg") :]
