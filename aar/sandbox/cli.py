"""`aar sandbox check [--json]`: run the escape suite in a real sandbox; exit 1 if anything escaped."""

from __future__ import annotations

import json

import typer

from aar.cli_errors import CliError

KINDS = ("bwrap", "docker", "none")
sandbox_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Agent sandboxes.")


@sandbox_app.command("check")
def check_cmd(
    kind: str = typer.Option("bwrap", help="bwrap | docker | none"),
    as_json: bool = typer.Option(False, "--json", help="print one JSON object"),
    only: list[str] = typer.Option([], help="run only these attempts (repeatable)"),  # noqa: B008
    unsafe_no_sandbox: bool = typer.Option(False, help="allow kind=none (everything will escape)"),
) -> None:
    """Try to escape a real sandbox in 30+ ways; print blocked/escaped for each."""
    if kind not in KINDS:
        raise CliError(f"--kind must be one of {', '.join(KINDS)}, not {kind!r}")
    from aar.sandbox import SandboxError
    from aar.sandbox.escape import run_escape_suite
    from aar.sandbox.escape.attempts import attempts

    names = [a.name for a in attempts()]
    unknown = [o for o in only if o not in names]
    if unknown:
        raise CliError(f"unknown attempt(s) {', '.join(unknown)}; see `aar sandbox check` for the names")
    try:
        results = run_escape_suite(kind, only=only or None, allow_unsafe=unsafe_no_sandbox)
    except SandboxError as e:
        raise CliError(f"sandbox {kind}: {e}") from e
    escaped = [r for r in results if not r.blocked]
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "kind": kind,
                    "attempts": [r.to_dict() for r in results],
                    "blocked": len(results) - len(escaped),
                    "escaped": len(escaped),
                },
                indent=1,
            )
        )
    else:
        for r in results:
            typer.echo(f"{'blocked' if r.blocked else 'ESCAPED':8} {r.name:22} {r.seconds:6.2f}s  {r.detail}")
        typer.echo(f"{len(results) - len(escaped)}/{len(results)} blocked")
    raise typer.Exit(1 if escaped else 0)
