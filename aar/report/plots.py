"""The report's plots as SVG strings (matplotlib, Agg backend): PGR over time, and generalization as a heat
table of methods x tasks."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def _plain(label: str) -> str:
    """Agent-written text as a literal label (a `$` would start matplotlib's mathtext)."""
    return " ".join(str(label).split()).replace("$", r"\$")


def _svg(fig) -> str:  # noqa: ANN001 - a matplotlib Figure
    buf = io.StringIO()
    fig.tight_layout()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.find("<svg") :]


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
    return _svg(fig)


def generalization_svg(matrix: dict, title: str = "PGR by task (held-out draws)") -> str:
    """`matrix`: `generalization.generalization_matrix` ({"tasks", "rows": [{"name", "pgr": {task: x}}]});
    a cell not measured is left blank and marked "–"."""
    import numpy as np

    tasks, rows = matrix.get("tasks") or [], matrix.get("rows") or []
    fig, ax = plt.subplots(figsize=(7.5, 1.2 + 0.38 * max(1, len(rows))), dpi=100)
    if not rows or not tasks:
        ax.text(0.5, 0.5, "nothing verified yet", ha="center", va="center")
        ax.set_axis_off()
        return _svg(fig)
    grid = np.array(
        [[r["pgr"].get(t) if r["pgr"].get(t) is not None else np.nan for t in tasks] for r in rows],
        dtype=float,
    )
    cmap = plt.get_cmap("RdYlGn").with_extremes(bad="#eeeeee")
    im = ax.imshow(
        np.ma.masked_invalid(grid),
        cmap=cmap,
        vmin=min(0.0, np.nanmin(grid, initial=0.0)),
        vmax=max(1.0, np.nanmax(grid, initial=1.0)),
        aspect="auto",
    )
    for i, j in np.ndindex(grid.shape):
        v = grid[i, j]
        ax.text(j, i, "–" if np.isnan(v) else f"{v:.2f}", ha="center", va="center", fontsize=8)
    ax.set_xticks(
        range(len(tasks)), [f"{_plain(t)}{' (main)' if k == 0 else ''}" for k, t in enumerate(tasks)]
    )
    names = [_plain(r["name"]) for r in rows]
    ax.set_yticks(range(len(rows)), [n if len(n) <= 56 else n[:55] + "…" for n in names], fontsize=8)
    ax.xaxis.tick_top()
    ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02, label="PGR")
    return _svg(fig)
