"""The MCP seat: any MCP client acting as a researcher of a run (`aar mcp`, `aar mcp config`).

`seat` opens it (token, server, research sandbox), `server` serves tools, prompts and resources,
`content` holds the briefing and data resources, `relay` gives sandboxed commands the server in `--url`
mode, `client_config` writes client configs, `cli` the commands.
"""
