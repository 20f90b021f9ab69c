"""`aar export RUN_DIR [--format csv|jsonl] [--out DIR]`: a run's records as flat files for analysis.

Reads through the run's server with the admin token (the one already serving the run dir, else one
started on it for the export and stopped after, as `aar report` does), so the rows are the admin's rows of
the API: `submissions.*` (`GET /api/submissions`, private figures included, no prediction vectors),
`findings.*`, `verifications.*` (every field, `details` and `runs` as JSON) and `rechecks.*` (every
re-check run). CSV cells holding lists or objects are JSON text; JSONL rows are the API's objects as they
are. Default `--out`: RUN_DIR/export.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from aarlab.client import AarClient

FORMATS = ("csv", "jsonl")

TABLES: dict[str, tuple[str, str, int]] = {  # name -> (client method, id key, page size)
    "submissions": ("submissions", "submission_id", 10_000),
    "findings": ("findings", "id", 1000),
    "verifications": ("verifications", "id", 1000),
    "rechecks": ("rechecks", "recheck_id", 1000),
}


def is_run_dir(path: Path) -> bool:
    return (path / "run.toml").is_file() or (path / "aar.db").is_file()


def pages(fetch: Callable[..., list[dict]], key: str, limit: int) -> list[dict]:
    out: list[dict] = []
    since = 0
    while True:
        page = fetch(since=since, limit=limit)
        out += page
        if len(page) < limit:
            return out
        since = int(page[-1][key])


def fetch_tables(admin: AarClient) -> dict[str, list[dict]]:
    return {name: pages(getattr(admin, method), key, limit) for name, (method, key, limit) in TABLES.items()}


def _cell(v: object) -> object:
    return json.dumps(v, sort_keys=True) if isinstance(v, dict | list) else ("" if v is None else v)


def write_table(rows: list[dict], path: Path, fmt: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "jsonl":
        path.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))
        return path
    columns: dict[str, None] = {}
    for r in rows:
        columns.update(dict.fromkeys(r))
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(columns))
        w.writeheader()
        for r in rows:
            w.writerow({k: _cell(r.get(k)) for k in columns})
    return path


@contextmanager
def run_admin(run_dir: Path) -> Iterator[AarClient]:
    """An admin client of the run's server: the running one, else one started for the duration."""
    from aar.report.cli import running_server
    from aar.supervisor.config import RunConfig, load_config
    from aar.supervisor.server import start_server

    running = running_server(run_dir)
    if running is not None:
        with running as admin:
            yield admin
        return
    cfg = load_config(run_dir / "run.toml") if (run_dir / "run.toml").exists() else RunConfig(
        run_dir=run_dir, task="-")
    cfg.run_dir = run_dir
    handle = start_server(cfg)
    try:
        with handle.client() as admin:
            yield admin
    finally:
        if handle.process is not None:
            handle.process.stop("stopped", 10.0)


def export_cmd(
    run_dir: Annotated[Path, typer.Argument(help="the run directory")],
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl")] = "csv",
    out: Annotated[Path | None, typer.Option("--out", help="folder for the files (default RUN_DIR/export)")]
    = None,
) -> None:
    """Export a run's submissions, findings, verifications and re-check runs to CSV or JSONL."""
    if fmt not in FORMATS:
        raise typer.BadParameter(f"--format must be one of {', '.join(FORMATS)}")
    run_dir = run_dir.expanduser().resolve()
    if not run_dir.is_dir() or not is_run_dir(run_dir):
        typer.echo(f"aar export: {run_dir} is not a run directory (no run.toml or aar.db)", err=True)
        raise typer.Exit(2)
    with run_admin(run_dir) as admin:
        tables = fetch_tables(admin)
    dest = (out or run_dir / "export").expanduser().resolve()
    for name, rows in tables.items():
        path = write_table(rows, dest / f"{name}.{fmt}", fmt)
        typer.echo(f"{path}: {len(rows)} rows")
