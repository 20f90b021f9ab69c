"""Baseline `strong_ceiling`: the strong model trained on true train_unlabel labels (trusted callers only)."""

from aarlab.w2s.ceiling import run_ceiling


def main(ctx):
    run_ceiling(ctx)
