"""`ToolSet`: the tools every agent kind uses, each call audited."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from aar.agents.audit import AuditLog
from aar.agents.tools import file_tools, server_tools
from aar.agents.tools.arguments import check_arguments
from aar.agents.tools.specs import BY_NAME, SPECS
from aar.agents.tools.types import ToolError, ToolResult, ToolSpec


class ToolSet:
    def __init__(
        self,
        sandbox: Any,
        client: Any,
        workspace: Path,
        audit: AuditLog,
        task: str,
        env: dict[str, str] | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.client = client
        self.workspace = Path(workspace).resolve()
        self.audit = audit
        self.task = task
        self.env = dict(env or {})
        roots = getattr(sandbox, "read_roots", None)
        self.read_roots = [Path(p) for p in roots()] if callable(roots) else []

    def specs(self) -> list[ToolSpec]:
        return list(SPECS)

    def call(self, name: str, args: dict | None, cancel: threading.Event | None = None, *,
             env: dict[str, str] | None = None) -> ToolResult:
        """Run one tool. Arguments are checked against its schema first (unknown ones refused). `cancel`
        (set from another thread) kills a running `bash` command. `env` (trusted callers only, e.g. the
        searcher's compute slot): extra environment for `bash`."""
        args = dict(args or {})
        t0 = time.monotonic()
        try:
            if name not in BY_NAME:
                raise ToolError(f"unknown tool {name!r}; tools: {', '.join(s.name for s in SPECS)}")
            check_arguments(BY_NAME[name], args)
            result = self._dispatch(name, args, cancel, env)
        except ToolError as e:
            result = ToolResult(False, f"error: {e}")
        except Exception as e:  # noqa: BLE001 - every failure goes back to the agent and into the audit log
            detail = getattr(e, "detail", None)
            result = ToolResult(False, f"error: {type(e).__name__}: {detail or e}")
        self.audit.record(name, args, result.ok, result.output, time.monotonic() - t0)
        return result

    def _host_args(self, args: dict) -> dict:
        """Absolute paths in file-tool arguments are paths as a sandboxed command sees them (/workspace/...,
        /aar/data/...): map them to the host paths behind the mounts."""
        path = args.get("path")
        to_host = getattr(self.sandbox, "host_path", None)
        if isinstance(path, str) and path.startswith("/") and callable(to_host):
            host = to_host(path)
            if host is not None:
                return {**args, "path": str(host)}
        return args

    def _dispatch(self, name: str, args: dict, cancel: threading.Event | None = None,
                  env: dict[str, str] | None = None) -> ToolResult:
        ws, c = self.workspace, self.client
        if name in ("read_file", "write_file", "edit_file", "list_files"):
            args = self._host_args(args)
        match name:
            case "bash":
                return self._bash(args, cancel, env)
            case "read_file":
                return file_tools.read_file(ws, args, self.read_roots)
            case "write_file":
                return file_tools.write_file(ws, args)
            case "edit_file":
                return file_tools.edit_file(ws, args)
            case "list_files":
                return file_tools.list_files(ws, args, self.read_roots)
        if c is None:
            raise ToolError(f"tool {name!r} needs the server, and this tool set has no client")
        match name:
            case "evaluate":
                return server_tools.evaluate(c, ws, self.task, args)
            case "share_finding":
                return server_tools.share_finding(c, ws, self.task, args)
            case "read_forum":
                return server_tools.read_forum(c, args)
            case "search_forum":
                return server_tools.search_forum(c, args)
            case "leaderboard":
                return server_tools.leaderboard(c, self.task, args)
            case "download_snapshot":
                return server_tools.download_snapshot(c, ws, args)
        raise ToolError(f"unknown tool {name!r}; tools: {', '.join(s.name for s in SPECS)}")

    def _bash(self, args: dict, cancel: threading.Event | None = None,
              env: dict[str, str] | None = None) -> ToolResult:
        command = args.get("command")
        if not isinstance(command, str) or not command.strip():
            raise ToolError("command must be a non-empty string")
        timeout = float(args["timeout"]) if args.get("timeout") else None
        kwargs: dict[str, Any] = {} if cancel is None else {"cancel": cancel}
        res = self.sandbox.run(command, timeout=timeout, env={**self.env, **(env or {})}, **kwargs)
        head = f"exit code {res.returncode} ({res.seconds:.1f}s)"
        if res.killed_reason:
            head += f"; killed: {res.killed_reason}"
        out = (
            head
            + (f"\n--- stdout\n{res.stdout}" if res.stdout else "")
            + (f"\n--- stderr\n{res.stderr}" if res.stderr else "")
        )
        data = {
            "returncode": res.returncode,
            "timed_out": res.timed_out,
            "killed_reason": res.killed_reason,
            "seconds": round(res.seconds, 3),
            "cpu_seconds": None if res.cpu_seconds is None else round(res.cpu_seconds, 3),
        }
        return ToolResult(res.returncode == 0 and res.killed_reason is None, out, data)
