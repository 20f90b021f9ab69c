"""A local scripted model server for tests: speaks the Anthropic Messages API (`POST /v1/messages`) and
OpenAI Chat Completions (`POST /v1/chat/completions`) on 127.0.0.1, replays a script of replies and
injected HTTP errors, and records every request it receives. The models routes the preflight calls:
`GET /v1/models` (OpenAI list) and `GET /v1/models/{id}` (Anthropic retrieve), answering for `models`.
With `api_key`, every route answers 401 unless the request carries it (`x-api-key` or a Bearer token)."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


@dataclass
class Reply:
    """One scripted model answer: text and tool calls `(name, args)`; usage as the API reports it."""

    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    input_tokens: int = 100
    output_tokens: int = 20
    raw_arguments: str | None = None  # OpenAI only: send this verbatim as every call's `arguments`
    cache_read_tokens: int = 0  # prompt tokens read from the provider's prompt cache
    cut: bool = False  # answer as if the output token limit was hit (max_tokens / length)


@dataclass
class Fail:
    """An injected HTTP error answer (e.g. 429 rate limit, 503 / 529 overload)."""

    status: int
    retry_after: float | None = None


Step = Reply | Fail

_ANTHROPIC_ERR = {429: "rate_limit_error", 529: "overloaded_error", 500: "api_error", 503: "api_error"}


@dataclass
class Received:
    api: str  # "anthropic" | "openai"
    body: dict[str, Any]
    headers: dict[str, str]
    answered: int  # HTTP status sent back


class ScriptedLLMServer:
    def __init__(
        self, script: list[Step], *, api_key: str | None = None, models: list[str] | None = None
    ) -> None:
        self.script = list(script)
        self.api_key = api_key
        self.models = list(models or [])
        self.model_requests: list[str] = []  # paths of the models routes asked
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self._n = 0
        self.app = self._make_app()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def remaining(self) -> int:
        return len(self.script)

    # -- replay ---------------------------------------------------------------------------------------
    def _next(self, api: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, Step | None]:
        with self._lock:
            self._n += 1
            step = self.script.pop(0) if self.script else None
            status = 400 if step is None else (step.status if isinstance(step, Fail) else 200)
            self.requests.append(Received(api, body, headers, status))
            return self._n, step

    def _refused(self, request: Request) -> JSONResponse | None:
        if self.api_key is None:
            return None
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        given = request.headers.get("x-api-key") or bearer
        if given == self.api_key:
            return None
        if request.headers.get("anthropic-version"):
            err = {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}
        else:
            err = {"error": {"message": "Incorrect API key", "type": "invalid_request_error", "code": None}}
        return JSONResponse(err, status_code=401)

    def _make_app(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def auth(request: Request, call_next):  # noqa: ANN001, ANN202
            return self._refused(request) or await call_next(request)

        @app.get("/v1/models")
        async def list_models(request: Request) -> JSONResponse:
            self.model_requests.append(request.url.path)
            rows = [{"id": m, "object": "model", "created": 0, "owned_by": "scripted"} for m in self.models]
            return JSONResponse({"object": "list", "data": rows})

        @app.get("/v1/models/{model_id}")
        async def get_model(model_id: str, request: Request) -> JSONResponse:
            self.model_requests.append(request.url.path)
            if model_id not in self.models:
                err = {"type": "error", "error": {"type": "not_found_error", "message": f"model: {model_id}"}}
                return JSONResponse(err, status_code=404)
            return JSONResponse(
                {
                    "type": "model",
                    "id": model_id,
                    "display_name": model_id,
                    "created_at": "2025-01-01T00:00:00Z",
                    "lifecycle": "active",
                }
            )

        @app.post("/v1/messages")
        async def messages(request: Request) -> JSONResponse:
            body = await request.json()
            n, step = self._next("anthropic", body, dict(request.headers))
            if step is None:
                return JSONResponse(
                    {
                        "type": "error",
                        "error": {"type": "invalid_request_error", "message": "script exhausted"},
                    },
                    status_code=400,
                )
            if isinstance(step, Fail):
                err = {
                    "type": "error",
                    "error": {
                        "type": _ANTHROPIC_ERR.get(step.status, "api_error"),
                        "message": f"scripted {step.status}",
                    },
                }
                return JSONResponse(err, status_code=step.status, headers=_retry_headers(step))
            content: list[dict[str, Any]] = []
            if step.text:
                content.append({"type": "text", "text": step.text})
            for i, (name, args) in enumerate(step.tool_calls):
                content.append({"type": "tool_use", "id": f"toolu_{n:03d}_{i}", "name": name, "input": args})
            return JSONResponse(
                {
                    "id": f"msg_{n:03d}",
                    "type": "message",
                    "role": "assistant",
                    "model": body.get("model", ""),
                    "content": content,
                    "stop_reason": "max_tokens"
                    if step.cut
                    else "tool_use"
                    if step.tool_calls
                    else "end_turn",
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": step.input_tokens,
                        "output_tokens": step.output_tokens,
                        "cache_read_input_tokens": step.cache_read_tokens,
                    },
                }
            )

        @app.post("/v1/chat/completions")
        async def chat(request: Request) -> JSONResponse:
            body = await request.json()
            n, step = self._next("openai", body, dict(request.headers))
            if step is None:
                return JSONResponse(
                    {"error": {"message": "script exhausted", "type": "invalid_request_error", "code": None}},
                    status_code=400,
                )
            if isinstance(step, Fail):
                err = {"error": {"message": f"scripted {step.status}", "type": "server_error", "code": None}}
                return JSONResponse(err, status_code=step.status, headers=_retry_headers(step))
            message: dict[str, Any] = {"role": "assistant", "content": step.text or None}
            if step.tool_calls:
                message["tool_calls"] = [
                    {
                        "id": f"call_{n:03d}_{i}",
                        "type": "function",
                        "function": {
                            "name": name,
                            "arguments": step.raw_arguments
                            if step.raw_arguments is not None
                            else json.dumps(args),
                        },
                    }
                    for i, (name, args) in enumerate(step.tool_calls)
                ]
            return JSONResponse(
                {
                    "id": f"chatcmpl-{n:03d}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", ""),
                    "choices": [
                        {
                            "index": 0,
                            "message": message,
                            "finish_reason": "length"
                            if step.cut
                            else "tool_calls"
                            if step.tool_calls
                            else "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": step.input_tokens + step.cache_read_tokens,
                        "completion_tokens": step.output_tokens,
                        "total_tokens": step.input_tokens + step.cache_read_tokens + step.output_tokens,
                        "prompt_tokens_details": {"cached_tokens": step.cache_read_tokens},
                    },
                }
            )

        return app

    # -- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> ScriptedLLMServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("scripted LLM server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> ScriptedLLMServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _retry_headers(step: Fail) -> dict[str, str]:
    return {} if step.retry_after is None else {"retry-after": str(step.retry_after)}
