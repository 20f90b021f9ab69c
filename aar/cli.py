"""The `aar` command line. Each part registers its own sub-commands here, one line each."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Automated alignment researchers.")
