"""`aar run --config run.toml [--check]`: check a run, then start it and supervise it until it ends
(Ctrl-C stops it cleanly). Only typer and the stdlib at module level."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aar.cli_errors import CliError, one_line


def run_cmd(
    config: Annotated[Path, typer.Option("--config", "-c", help="run.toml (see aar.supervisor.config)")],
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Only check the config, task data, sandbox and LLM endpoints; start nothing."
        ),
    ] = False,
    no_live: Annotated[
        bool, typer.Option("--no-live", help="No live table; print a summary at the end.")
    ] = False,
) -> None:
    """Run a team of research agents against the scoring server (relative paths: from the cwd)."""
    from aar.supervisor.preflight import load, preflight

    cfg, problems = load(config)
    if cfg is not None:
        problems = preflight(cfg)
    if problems:
        for p in problems:
            typer.echo(f"aar run: {p}", err=True)
        raise typer.Exit(2)
    assert cfg is not None
    if check:
        kinds = ", ".join(f"{g.count} {g.kind}" for g in cfg.agents)
        typer.echo(f"aar run --check: {config} is ready ({kinds}; run dir {cfg.run_dir})")
        return
    from aar.supervisor.run import Supervisor

    try:
        code = Supervisor(cfg, live=False if no_live else None).run()
    except RuntimeError as e:  # the server did not come up: its log has the why
        raise CliError(f"run did not start: {one_line(str(e).splitlines()[0])}") from e
    raise typer.Exit(code)
