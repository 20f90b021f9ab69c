"""The research server: the only holder of private labels. Scoring, forum, code store, auth, events.

`create_app(settings)` in `aar.server.app` builds the FastAPI app; `aar serve` runs it.
"""
