"""MCP client configurations for a seat: the `.mcp.json` every MCP client reads (Claude Code, Claude
Desktop, Cursor, the MCP Inspector's `--config`), and Claude Code settings that leave only the `aar` tools.

Claude Code's formats as documented at code.claude.com/docs/en (pages `mcp`, `settings`, `permissions`,
`cli-reference`, `tools-reference`): `.mcp.json` is `{"mcpServers": {NAME: {"type": "stdio", "command",
"args", "env"}}}`; `permissions.defaultMode = "dontAsk"` auto-denies every tool not matched by
`permissions.allow` (`mcp__NAME` = every tool of that server); a bare tool name in `permissions.deny`
removes that built-in tool from the model's context. `--tools ""` disables all built-in tools and
`--strict-mcp-config --mcp-config FILE` loads no other MCP server.

Claude Code's own tools run on the host, outside every sandbox, next to the run's private labels: a
researcher seat must have them off, and every command must go through the seat's `bash`.
"""

from __future__ import annotations

import shlex
from pathlib import Path

# Claude Code's built-in tools that touch the host (shell, files, web, subagents that inherit tools,
# scheduled or remote runs, file uploads); canonical names from the tools reference.
HOST_TOOLS = [
    "Bash",
    "PowerShell",
    "Monitor",
    "Read",
    "Write",
    "Edit",
    "NotebookEdit",
    "Glob",
    "Grep",
    "LSP",
    "WebFetch",
    "WebSearch",
    "Agent",
    "Skill",
    "Workflow",
    "SendUserFile",
    "Artifact",
    "RemoteTrigger",
    "CronCreate",
    "EnterWorktree",
]
MCP_RESOURCE_TOOLS = ["ListMcpResourcesTool", "ReadMcpResourceTool"]
TOKEN_REF = "${AAR_AGENT_TOKEN}"  # Claude Code expands ${VAR} in .mcp.json `env` values


def seat_args(
    *,
    run_dir: Path | None,
    agent: str,
    url: str | None = None,
    task: str | None = None,
    tasks_dir: Path | None = None,
    sandbox: str | None = None,
) -> list[str]:
    """The `aar mcp ...` arguments of a seat (absolute paths: a client starts it from anywhere)."""
    args = ["mcp", "--agent", agent]
    if run_dir is not None:
        args += ["--run-dir", str(run_dir.expanduser().resolve())]
    if url:
        args += ["--url", url]
    if task:
        args += ["--task", task]
    if tasks_dir is not None:
        args += ["--tasks-dir", str(tasks_dir.expanduser().resolve())]
    if sandbox:
        args += ["--sandbox", sandbox]
    return args


def mcp_json(server: str, command: str, args: list[str], token: str) -> dict:
    """`.mcp.json`: one stdio server whose environment carries the agent token (never its arguments)."""
    return {
        "mcpServers": {
            server: {"type": "stdio", "command": command, "args": args, "env": {"AAR_AGENT_TOKEN": token}}
        }
    }


def claude_settings(server: str) -> dict:
    """`.claude/settings.json` for a seat folder: only this server's tools (and reading its resources)."""
    return {
        "permissions": {
            "defaultMode": "dontAsk",
            "allow": [f"mcp__{server}", *MCP_RESOURCE_TOOLS],
            "deny": list(HOST_TOOLS),
            "disableBypassPermissionsMode": "disable",
        },
        "enabledMcpjsonServers": [server],
        "enableAllProjectMcpServers": False,
    }


def claude_command(server: str, mcp_config: str = ".mcp.json") -> str:
    """How to start Claude Code in a seat folder: no built-in tools, no other MCP server."""
    return shlex.join(
        [
            "claude",
            "--strict-mcp-config",
            "--mcp-config",
            mcp_config,
            "--tools",
            "",
            "--permission-mode",
            "dontAsk",
            "--allowedTools",
            f"mcp__{server}",
        ]
    )
