"""The `aar` command line. Each part registers its own sub-commands here, one line each.

Every module imported here loads only typer and the standard library at import time: torch, mcp, fastapi
and the rest are imported inside the commands that use them (`tests/test_cli_light.py` checks it), so
`aar --help` answers at once. `main` prints any usage error on one line and exits non-zero.
"""

from __future__ import annotations

import sys

import typer

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, add_completion=False,
                  help="Automated alignment researchers.")

from aar.tasks.cli import w2s_app, zoo_app  # noqa: E402

app.add_typer(zoo_app, name="zoo")
app.add_typer(w2s_app, name="w2s")

from aar.tasks.aar_jsonl_cli import import_aar_cmd  # noqa: E402

w2s_app.command("import-aar")(import_aar_cmd)

from aar.server.cli import serve_cmd  # noqa: E402

app.command("serve")(serve_cmd)

from aar.agents.agents_cli import agents_app  # noqa: E402
from aar.agents.mcp.cli import mcp_app  # noqa: E402
from aar.sandbox.cli import sandbox_app  # noqa: E402

app.add_typer(sandbox_app, name="sandbox")
app.add_typer(mcp_app, name="mcp")
app.add_typer(agents_app, name="agents")

from aar.supervisor.cli import run_cmd  # noqa: E402

app.command("run")(run_cmd)

from aar.report.cli import demo_cmd, report_cmd, resume_cmd  # noqa: E402

app.command("demo")(demo_cmd)
app.command("report")(report_cmd)
app.command("resume")(resume_cmd)


def main(argv: list[str] | None = None) -> None:
    """The `aar` entry point: the app, with usage errors (typer's or a command's `CliError`) on one line."""
    from typer.main import get_command

    from aar.cli_errors import one_line

    # the click that this typer uses (its own copy in typer >= 0.26, the click package before)
    click_errors = sys.modules[typer.BadParameter.__module__]
    ClickException, UsageError = click_errors.ClickException, click_errors.UsageError  # noqa: N806
    NoArgsIsHelpError = getattr(click_errors, "NoArgsIsHelpError", ())  # noqa: N806 - click >= 8.2

    args = sys.argv[1:] if argv is None else list(argv)
    command = get_command(app)
    if "--help" in args:
        typer.echo(_help_context(command, args).get_help())
        sys.exit(0)
    try:
        code = command.main(args=args, prog_name="aar", standalone_mode=False)
    except NoArgsIsHelpError as e:
        typer.echo(e.format_message())
        code = 0
    except ClickException as e:
        where = e.ctx.command_path if isinstance(e, UsageError) and e.ctx else "aar"
        typer.echo(f"{where}: error: {one_line(e.format_message())}", err=True)
        code = e.exit_code
    except typer.Abort:
        typer.echo("aar: aborted", err=True)
        code = 1
    sys.exit(code if isinstance(code, int) else 0)


def _help_context(command, args: list[str]):  # noqa: ANN001, ANN202 - typer's click classes
    """The context of the (sub)command that `args` name, built without parsing any option: typer would
    coerce every option value with pydantic first, a third of a second that `--help` does not need."""
    ctx = typer.Context(command, info_name="aar")
    for tok in args:
        group = hasattr(command, "get_command") and not tok.startswith("-")
        sub = command.get_command(ctx, tok) if group else None
        if sub is None:
            break
        command, ctx = sub, typer.Context(sub, info_name=tok, parent=ctx)
    return ctx


if __name__ == "__main__":
    main()
