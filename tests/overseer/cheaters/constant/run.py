"""Cheater: guess the most common answer (the reference system's first hack)."""

from common import write


def main(ctx):
    labels = [int(x) for x in ctx.data.train_labels()]
    common = int(sum(labels) * 2 >= len(labels))
    write(ctx, [common] * len(ctx.data.texts("test")), {"answer": common})
