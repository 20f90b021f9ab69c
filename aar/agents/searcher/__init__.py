"""The embedded offline researcher: a research policy over the typed space of W2S recipes.

`python -m aar.agents.searcher --run-dir D --name N` runs one agent (see `__main__`); `SearcherAgent`
is the loop, `Policy` the decisions, `directions` the built-in starting points.
"""
