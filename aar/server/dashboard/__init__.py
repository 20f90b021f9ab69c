"""The dashboard at `/`: a server-rendered page plus a small vanilla-JS client of the public API."""

from aar.server.dashboard.router import router

__all__ = ["router"]
