"""Where a run's work runs: the executor interface (`executor.py`: `local` processes or Ray Core), the
node-side pieces of the Ray executor (agents as actors, idea runs as tasks) and the content-addressed
artifacts that carry public task data and models to nodes that share no filesystem with the head.
Nothing here is imported by `aar.cli` at import time; `ray` is imported only inside the Ray executor."""
