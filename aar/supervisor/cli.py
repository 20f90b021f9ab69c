"""`aar run --config run.toml`: start a run and supervise it until it ends (Ctrl-C stops it cleanly)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def run_cmd(
    config: Annotated[Path, typer.Option("--config", "-c", help="run.toml (see aar.supervisor.config)")],
    no_live: Annotated[
        bool, typer.Option("--no-live", help="No live table; print a summary at the end.")
    ] = False,
) -> None:
    """Run a team of research agents against the scoring server."""
    from pydantic import ValidationError

    from aar.supervisor.config import load_config
    from aar.supervisor.run import Supervisor

    try:
        cfg = load_config(config)
    except (ValidationError, ValueError) as e:
        raise typer.BadParameter(str(e), param_hint="--config") from e
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    toml_copy = cfg.run_dir / "run.toml"
    if not toml_copy.exists():
        toml_copy.write_text(config.read_text())
    raise typer.Exit(Supervisor(cfg, live=False if no_live else None).run())
