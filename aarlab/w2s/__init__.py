"""The weak-to-strong task library: tasks, model backends, training, baselines, metrics."""
