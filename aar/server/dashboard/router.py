"""Routes of the dashboard: the page itself and its static files (shipped in the package; no CDN)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from aar.server.auth import Principal, principal

HERE = Path(__file__).parent
STATIC = HERE / "static"
_env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
_TYPES = {".js": "text/javascript", ".css": "text/css"}

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request) -> HTMLResponse:
    """The page; data comes from the JSON API with the token given as `?token=` (kept in localStorage)."""
    html = _env.get_template("dashboard.html").render(static="/dashboard/static")
    return HTMLResponse(html)


@router.get("/dashboard/static/{name}")
def static(name: str) -> FileResponse:
    if len(name) > 100 or not name.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise HTTPException(404, "not found")
    path = (STATIC / name).resolve()
    if path.parent != STATIC.resolve() or path.suffix not in _TYPES or not path.is_file():
        raise HTTPException(404, "not found")
    return FileResponse(path, media_type=_TYPES[path.suffix])


def _last_line(path: Path, max_bytes: int = 16384) -> dict | None:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - max_bytes))
            lines = fh.read().decode("utf-8", "replace").strip().splitlines()
        return json.loads(lines[-1]) if lines else None
    except (OSError, ValueError):
        return None


@router.get("/dashboard/agents.json")
def agent_activity(request: Request, _: Annotated[Principal, Depends(principal)]) -> dict:
    """Per agent: its last tool call (from RUN_DIR/agents/<name>/audit.jsonl), and the per-run budget."""
    settings = request.app.state.aar.settings
    out: dict[str, dict] = {}
    root = Path(settings.run_dir) / "agents"
    for audit in sorted(root.glob("*/audit.jsonl")) if root.is_dir() else []:
        rec = _last_line(audit)
        if rec:
            args = json.dumps(rec.get("args", ""))[:80]
            out[audit.parent.name] = {
                "last_action": f"{rec.get('tool')} {args}",
                "t": rec.get("t"),
                "ok": rec.get("ok"),
            }
    return {"agents": out, "budget": settings.budget}
