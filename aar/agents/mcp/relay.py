"""The server for sandboxed commands when `aar mcp` reaches it over TCP (`--url`): sandboxes have no
network, so `aar mcp` serves a Unix socket (bound into the sandbox at /aar/server.sock) that relays each
HTTP request to the one server URL and streams the answer back (server-sent events included).

A small ASGI app on uvicorn; httpx does the client side. The target is always the configured origin: the
request's raw path is put on that URL (`copy_with(raw_path=...)`), so no path can name another host.
Tokens pass through untouched: the relay adds no credentials of its own.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, StreamingResponse

# hop-by-hop headers (RFC 9110 7.6.1) and Host, which httpx sets for the target
_DROP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
    }
)


def relay_app(url: str) -> Any:
    """An ASGI app relaying every HTTP request to the origin of `url`."""
    origin = httpx.URL(url)
    client = httpx.AsyncClient(timeout=httpx.Timeout(connect=10.0, read=None, write=120.0, pool=30.0))

    async def app(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        raw_path = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string") or b""
        try:
            target = origin.copy_with(raw_path=raw_path + (b"?" + query if query else b""))
        except httpx.InvalidURL as e:
            await JSONResponse({"detail": f"bad request path: {e}"}, status_code=400)(scope, receive, send)
            return
        headers = [(k, v) for k, v in request.headers.raw if k.decode("latin-1").lower() not in _DROP]
        body = request.stream() if request.method not in ("GET", "HEAD") else None
        upstream = client.build_request(request.method, target, headers=headers, content=body)
        try:
            answer = await client.send(upstream, stream=True)
        except httpx.HTTPError as e:
            detail = f"the server at {origin} is unreachable: {type(e).__name__}: {e}"
            await JSONResponse({"detail": detail}, status_code=502)(scope, receive, send)
            return
        out_headers = {k: v for k, v in answer.headers.items() if k.lower() not in _DROP}
        response = StreamingResponse(
            answer.aiter_raw(),  # still encoded: content-length / content-encoding stay valid
            status_code=answer.status_code,
            headers=out_headers,
            background=BackgroundTask(answer.aclose),
        )
        await response(scope, receive, send)

    return app


class SocketRelay:
    """`relay_app(url)` served on a fresh Unix socket (in a private temporary folder) from a thread."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._dir = Path(tempfile.mkdtemp(prefix="aar-mcp-"))  # short: socket paths are capped at 108 bytes
        self.socket_path = self._dir / "server.sock"
        config = uvicorn.Config(
            relay_app(url), uds=str(self.socket_path), log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="aar-mcp-relay", daemon=True)

    def start(self, timeout: float = 10.0) -> SocketRelay:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the socket relay to {self.url} did not start")
            time.sleep(0.01)
        self.socket_path.chmod(0o666)  # a sandbox may map to another uid; tokens are what authorise
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        shutil.rmtree(self._dir, ignore_errors=True)
