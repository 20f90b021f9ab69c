"""The overseer: re-runs claimed results in fresh sandboxes, scores them on held-out data, flags cheating.

It is its own process (`python -m aar.overseer`), a client of the server with the admin token.
"""
