"""`aar serve`: run the research server on a TCP port and/or a Unix socket (both by default)."""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path
from typing import Annotated

import typer

from aar.cli_errors import CliError, one_line

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def _tcp_socket(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accepted connections
    sock.bind((host, port))
    sock.listen(2048)  # connections made before the app is up wait in the backlog instead of failing
    return sock


def _uds_socket(path: Path) -> socket.socket:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        path.unlink()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.listen(2048)
    os.chmod(path, 0o666)  # sandboxes may run as another uid; the token is what authorises
    return sock


def serve_cmd(
    run_dir: Annotated[
        Path, typer.Option("--run-dir", help="Run directory (db, blobs, admin_token, socket).")
    ],
    tasks_dir: Annotated[
        Path | None, typer.Option("--tasks-dir", help="Tasks root (default: the 'full' cache).")
    ] = None,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", help="TCP port (0: any free; see RUN_DIR/server.json).", min=0, max=65535)
    ] = 8765,
    uds: Annotated[
        Path | None, typer.Option("--uds", help="Unix socket (default RUN_DIR/server.sock).")
    ] = None,
    no_tcp: Annotated[bool, typer.Option("--no-tcp", help="Serve only on the Unix socket.")] = False,
    no_uds: Annotated[bool, typer.Option("--no-uds", help="Serve only on TCP.")] = False,
    db_url: Annotated[
        str | None, typer.Option("--db-url", help="SQLAlchemy URL (default SQLite in RUN_DIR).")
    ] = None,
    budget: Annotated[
        int, typer.Option("--budget", help="Evaluations per agent per task for the whole run.", min=0)
    ] = 300,
    log_level: Annotated[str, typer.Option("--log-level")] = "warning",
) -> None:
    """Run the research server."""
    if no_tcp and no_uds:
        raise CliError("--no-tcp and --no-uds together leave nothing to serve on")
    if log_level not in LOG_LEVELS:
        raise CliError(f"--log-level must be one of {', '.join(LOG_LEVELS)}, not {log_level!r}")
    if run_dir.exists() and not run_dir.is_dir():
        raise CliError(f"--run-dir {run_dir} is not a folder")
    if tasks_dir is not None and not tasks_dir.is_dir():
        raise CliError(f"--tasks-dir {tasks_dir}: no such folder")
    socks: list[socket.socket] = []
    info: dict = {"pid": os.getpid()}
    if not no_tcp:
        try:
            tcp = _tcp_socket(host, port)
        except OSError as e:
            raise CliError(f"cannot listen on {host}:{port}: {e.strerror or e}") from e
        socks.append(tcp)
        info["url"] = f"http://{host}:{tcp.getsockname()[1]}"
    if db_url is not None:
        _check_db_url(db_url)

    import asyncio

    import uvicorn

    from aar.server.app import create_app
    from aar.server.settings import Settings

    kwargs: dict = {"run_dir": run_dir, "db_url": db_url, "budget": budget}
    if tasks_dir is not None:
        kwargs["tasks_dir"] = tasks_dir
    settings = Settings(**kwargs)
    created = not run_dir.exists()
    try:
        app = create_app(settings)
        if not no_uds:
            uds_path = (uds or settings.run_dir / "server.sock").absolute()
            socks.append(_uds_socket(uds_path))
            info["uds"] = str(uds_path)
    except Exception as e:  # noqa: BLE001 - a run dir this command made is not left half-made
        for s in socks:
            s.close()
        if created:
            shutil.rmtree(run_dir, ignore_errors=True)
        raise CliError(f"server did not start: {type(e).__name__}: {one_line(e)}") from e
    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="on", timeout_keep_alive=30)
    server = uvicorn.Server(config)
    tmp = settings.run_dir / "server.json.tmp"
    tmp.write_text(json.dumps(info))
    os.replace(tmp, settings.run_dir / "server.json")
    typer.echo(f"aar server listening: {json.dumps(info)}", err=True)
    asyncio.run(server.serve(sockets=socks))


def _check_db_url(db_url: str) -> None:
    """A database URL that SQLAlchemy can parse, with an installed driver, answering a connection."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    try:
        engine = create_engine(db_url)
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as e:
        raise CliError(f"--db-url: {one_line(e)}") from e
    try:
        if engine.dialect.name == "sqlite":
            database = engine.url.database
            if database and database != ":memory:" and not Path(database).parent.is_dir():
                raise CliError(f"--db-url: folder {Path(database).parent} does not exist")
        else:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
    except SQLAlchemyError as e:
        raise CliError(f"--db-url: cannot connect: {one_line(e.args[0] if e.args else e)}") from e
    finally:
        engine.dispose()
