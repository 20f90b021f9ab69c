"""The MCP server of a seat: the agent tool set, its prompts and resources (low-level `mcp` Server).

Tool calls run `ToolSet.call` in a worker thread; a failed call is a tool error (`isError`), never a
protocol error. When the client cancels a call (`notifications/cancelled`), the SDK cancels the handler;
the handler then sets the call's cancel event, which kills the sandboxed command (`Sandbox.run(cancel=)`).
"""

from __future__ import annotations

import functools
import json
import threading
from typing import Any

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError

from aar.agents.mcp.content import PROMPTS, SeatContent
from aar.agents.tools.types import ToolSpec

RESOURCE_NOT_FOUND = -32002  # MCP's error code for an unknown resource URI


def instructions(name: str, task: str) -> str:
    """Server instructions (clients truncate them at about 2 KB): short, the briefing is a prompt."""
    return (
        f"aar research seat of agent `{name}` on the weak-to-strong task `{task}`. Use only these tools: "
        "`bash` runs in your sandbox (/workspace writable, the task data read-only at /aar/data, no "
        "network); never use a shell or file tool of your own client, which would act on the host. "
        "Open each session with the `resume` prompt (or read aar://briefing and aar://notebook): it "
        "holds your task, research direction, the rules and the research library's docs. Keep "
        "NOTEBOOK.md in your workspace up to date: it is your memory across sessions."
    )


def mcp_tool(spec: ToolSpec) -> types.Tool:
    return types.Tool(
        name=spec.name,
        title=spec.title,
        description=spec.description,
        input_schema=spec.input_schema,
        output_schema=spec.output_schema,
        annotations=types.ToolAnnotations.model_validate(spec.annotations) if spec.annotations else None,
    )


def build_mcp_server(toolset: Any, content: SeatContent, *, name: str, task: str) -> Server:
    tools = [mcp_tool(s) for s in toolset.specs()]

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        cancel = threading.Event()
        call = functools.partial(toolset.call, params.name, dict(params.arguments or {}), cancel)
        try:
            res = await anyio.to_thread.run_sync(call, abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            cancel.set()  # the worker thread kills the command, then records the call in the audit log
            raise
        data = res.data if isinstance(res.data, dict) else None
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=res.output)],
            structured_content=json.loads(json.dumps(data, default=str)) if data is not None else None,
            is_error=not res.ok,
        )

    async def list_prompts(ctx: Any, params: Any) -> types.ListPromptsResult:
        return types.ListPromptsResult(
            prompts=[types.Prompt(name=p.name, title=p.title, description=p.description) for p in PROMPTS]
        )

    async def get_prompt(ctx: Any, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        prompt = next((p for p in PROMPTS if p.name == params.name), None)
        if prompt is None:
            known = ", ".join(p.name for p in PROMPTS)
            raise MCPError(types.INVALID_PARAMS, f"unknown prompt {params.name!r}; prompts: {known}")
        text = await anyio.to_thread.run_sync(content.prompt_text, prompt.name)
        message = types.PromptMessage(role="user", content=types.TextContent(type="text", text=text))
        return types.GetPromptResult(description=prompt.description, messages=[message])

    async def list_resources(ctx: Any, params: Any) -> types.ListResourcesResult:
        rows = await anyio.to_thread.run_sync(content.resources)
        return types.ListResourcesResult(
            resources=[
                types.Resource(
                    uri=r.uri, name=r.name, title=r.title, description=r.description, mime_type=r.mime_type
                )
                for r in rows
            ]
        )

    async def read_resource(ctx: Any, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
        uri = str(params.uri)
        try:
            mime, text = await anyio.to_thread.run_sync(content.read, uri)
        except KeyError:
            raise MCPError(RESOURCE_NOT_FOUND, f"no resource {uri!r}") from None
        return types.ReadResourceResult(
            contents=[types.TextResourceContents(uri=uri, mime_type=mime, text=text)]
        )

    return Server(
        "aar",
        version="0.2.0",
        title="aar research seat",
        instructions=instructions(name, task),
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_prompts=list_prompts,
        on_get_prompt=get_prompt,
        on_list_resources=list_resources,
        on_read_resource=read_resource,
    )
