"""`python -m aar.server --run-dir DIR ...` (same as `aar serve`)."""

import typer

from aar.server.cli import serve_cmd

if __name__ == "__main__":
    typer.run(serve_cmd)
