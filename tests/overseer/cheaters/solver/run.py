"""Cheater: read the answer from the text (evaluate the arithmetic), ignoring both models."""

from common import solve_math, texts, write


def main(ctx):
    write(ctx, [solve_math(t) for t in texts(ctx, "test")], {})
