"""The searcher's hands: every step it takes goes through `aar.agents.tools.ToolSet`, so the audit log
holds every command, evaluation, download and forum post. This module maps the searcher's intents to
tool calls and reads their results; argument names of the tool set live here and nowhere else.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class ToolFailed(RuntimeError):
    def __init__(self, tool: str, output: str, data: dict | None = None):
        super().__init__(f"{tool} failed: {output[-2000:]}")
        self.tool, self.output, self.data = tool, output, data or {}


class Actions:
    def __init__(self, tools: Any, workspace: Path):
        self.tools = tools
        self.workspace = Path(workspace)

    def _call(self, name: str, args: dict[str, Any], env: dict[str, str] | None = None) -> tuple[str, dict]:
        args = {k: v for k, v in args.items() if v is not None}
        res = self.tools.call(name, args, env=env) if env else self.tools.call(name, args)
        data = res.data if isinstance(getattr(res, "data", None), dict) else {}
        if not res.ok:
            raise ToolFailed(name, str(res.output), data)
        return str(res.output), data

    def rel(self, path: Path) -> str:
        return str(Path(path).resolve().relative_to(self.workspace.resolve()))

    # -- sandboxed work ---------------------------------------------------------------------------

    def bash(self, command: str, timeout: float | None = None, env: dict[str, str] | None = None) -> str:
        """`env`: extra environment for this command (a compute slot's), given to the sandbox."""
        out, _ = self._call("bash", {"command": command, "timeout": timeout}, env)
        return out

    def bash_run(self, command: str, timeout: float | None = None, env: dict[str, str] | None = None) -> dict:
        """Like `bash`, returning the run's record (returncode, seconds, cpu_seconds)."""
        _, data = self._call("bash", {"command": command, "timeout": timeout}, env)
        return data

    def read_text(self, path: Path) -> str:
        out, _ = self._call("read_file", {"path": self.rel(path)})
        return out

    def read_json(self, path: Path) -> Any:
        return json.loads(self.read_text(path))

    # -- the server -------------------------------------------------------------------------------

    def evaluate(self, predictions: Path, idea: str) -> dict:
        _, data = self._call("evaluate", {"predictions_path": self.rel(predictions), "idea": idea})
        return data

    def share(
        self,
        type: str,
        title: str,
        body: str,
        *,
        folder: Path | None = None,
        metrics: dict | None = None,
        submission_id: int | None = None,
        parent_id: int | None = None,
    ) -> dict:
        args: dict[str, Any] = {
            "type": type,
            "title": title,
            "body": body,
            "metrics": metrics,
            "submission_id": submission_id,
            "parent_id": parent_id,
        }
        if folder is not None:
            args["idea_dir"] = self.rel(folder)
        _, data = self._call("share_finding", args)
        return data

    def forum(self, since: int, type: str = "result", limit: int = 200) -> list[dict]:
        _, data = self._call("read_forum", {"type": type, "since": since, "limit": limit})
        items = data.get("findings", data.get("items", []))
        return [f for f in items if isinstance(f, dict)]

    def download(self, snapshot_id: str, dest: Path) -> Path:
        _, data = self._call("download_snapshot", {"snapshot_id": snapshot_id, "dest": self.rel(dest)})
        return Path(data.get("path", dest))
