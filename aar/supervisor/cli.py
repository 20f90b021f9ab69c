"""`aar run --config run.toml`: start a run and supervise it until it ends (Ctrl-C stops it cleanly)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aar.cli_errors import CliError, one_line


def run_cmd(
    config: Annotated[Path, typer.Option("--config", "-c", help="run.toml (see aar.supervisor.config)")],
    no_live: Annotated[
        bool, typer.Option("--no-live", help="No live table; print a summary at the end.")
    ] = False,
) -> None:
    """Run a team of research agents against the scoring server."""
    from aar.supervisor.preflight import PreflightError, check_run, load_run_config

    try:
        cfg = load_run_config(config)
        check_run(cfg)
    except PreflightError as e:
        raise CliError(str(e)) from e
    from aar.supervisor.run import Supervisor

    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    toml_copy = cfg.run_dir / "run.toml"
    if not toml_copy.exists():
        toml_copy.write_text(config.read_text())
    try:
        code = Supervisor(cfg, live=False if no_live else None).run()
    except RuntimeError as e:  # the server did not come up: its log has the why
        raise CliError(f"run did not start: {one_line(str(e).splitlines()[0])}") from e
    raise typer.Exit(code)
