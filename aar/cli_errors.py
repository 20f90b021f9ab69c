"""One-line errors for the command line: `CliError` and the message shortener the commands share.

Kept free of heavy imports: every command module registered in `aar.cli` imports it at module level.
"""

from __future__ import annotations

import typer


class CliError(typer.BadParameter):
    """Bad input: printed as `aar CMD: error: MESSAGE` on one line, exit status 2, nothing changed."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))

    def format_message(self) -> str:
        return self.message


def one_line(message: object, limit: int = 400) -> str:
    """A message on one line (multi-line texts such as pydantic's are joined with '; ')."""
    parts = [p.strip() for p in str(message).splitlines() if p.strip()]
    text = "; ".join(parts) or type(message).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def validation_message(err: Exception) -> str:
    """A pydantic ValidationError as `field.path: message; ...` (anything else: its text)."""
    errors = getattr(err, "errors", None)
    if not callable(errors):
        return one_line(err)
    out = []
    for e in errors():
        loc = ".".join(str(p) for p in e.get("loc", ())) or "config"
        out.append(f"{loc}: {e.get('msg', '')}")
    return one_line("; ".join(out))
