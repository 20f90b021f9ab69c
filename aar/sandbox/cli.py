"""`aar sandbox check [--json] [--gpu]`: run the escape suite on the sandboxes agents and the overseer use;
exit 1 if anything escaped."""

from __future__ import annotations

import json
from pathlib import Path

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
    gpu: bool = typer.Option(False, help="with the GPU profile on (devices: $AAR_COMPUTE_DEVICES, else 0)"),
    gpu_dev_root: Path | None = typer.Option(  # noqa: B008
        None, hidden=True, help="folder of the GPU device nodes (tests: stand-in nodes)"),
    soft_quota: bool = typer.Option(False, help="force the soft disk quota (default: as agents get it)"),
) -> None:
    """Try to escape real sandboxes in 45+ ways; print blocked/escaped for each."""
    if kind not in KINDS:
        raise CliError(f"--kind must be one of {', '.join(KINDS)}, not {kind!r}")
    from aar.compute import devices_from_env
    from aar.sandbox import SandboxError
    from aar.sandbox.escape import run_escape_suite
    from aar.sandbox.escape.suite import names as attempt_names

    names = attempt_names()
    unknown = [o for o in only if o not in names]
    if unknown:
        raise CliError(f"unknown attempt(s) {', '.join(unknown)}; see `aar sandbox check` for the names")
    devices = tuple(devices_from_env() or ["0"])
    try:
        results = run_escape_suite(kind, only=only or None, allow_unsafe=unsafe_no_sandbox, gpu=gpu,
                                   gpu_devices=devices, gpu_dev_root=gpu_dev_root,
                                   hard_disk_quota=False if soft_quota else None)
    except SandboxError as e:
        raise CliError(f"sandbox {kind}: {e}") from e
    escaped = [r for r in results if not r.blocked]
    if as_json:
        typer.echo(json.dumps({"kind": kind, "gpu": gpu, "attempts": [r.to_dict() for r in results],
                               "blocked": len(results) - len(escaped), "escaped": len(escaped)}, indent=1))
    else:
        for r in results:
            typer.echo(f"{'blocked' if r.blocked else 'ESCAPED':8} {r.name:22} {r.seconds:6.2f}s  {r.detail}")
        typer.echo(f"{len(results) - len(escaped)}/{len(results)} blocked")
    raise typer.Exit(1 if escaped else 0)
