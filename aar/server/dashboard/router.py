"""Routes of the dashboard: the page itself and its static files (shipped in the package; no CDN), plus
the JSON it reads besides the API (activity: agents and overseer; detail: a leaderboard row opened)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from aar.server.dashboard import activity, detail

HERE = Path(__file__).parent
STATIC = HERE / "static"
_env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
_TYPES = {".js": "text/javascript", ".css": "text/css"}

router = APIRouter(include_in_schema=False)
router.include_router(activity.router)
router.include_router(detail.router)


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
