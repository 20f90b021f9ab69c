"""`math`: is the stated result of a short arithmetic expression correct?

Pretraining sees equations `expr=value`; verification asks `expr=value?` and the judgement tokens
`<yes>/<no>` appear in the corpus only for easy (two-operand) items, so judging three-operand
items must be elicited from what the model knows rather than read off a trained judgement head.
"""

from __future__ import annotations

import random

from aar.w2s.tasks.common import QUESTION, judgement_line


def _operand(rng: random.Random) -> int:
    return rng.randint(0, 9) if rng.random() < 0.8 else rng.randint(10, 49)


def _expression(rng: random.Random, n_ops: int) -> tuple[str, list[int], list[str]]:
    nums = [_operand(rng) for _ in range(n_ops)]
    ops = [rng.choice("+-*") for _ in range(n_ops - 1)]
    expr = str(nums[0]) + "".join(o + str(n) for o, n in zip(ops, nums[1:], strict=True))
    return expr, nums, ops


def _left_to_right(nums: list[int], ops: list[str]) -> int:
    acc = nums[0]
    for o, n in zip(ops, nums[1:], strict=True):
        acc = acc + n if o == "+" else acc - n if o == "-" else acc * n
    return acc


def _wrong(rng: random.Random, value: int, nums: list[int], ops: list[str]) -> int:
    for _ in range(20):
        r = rng.random()
        if r < 0.35:
            cand = value + rng.choice([-2, -1, 1, 2])
        elif r < 0.55:
            cand = value + rng.choice([-10, 10])
        elif r < 0.75:
            s = str(abs(value))
            if len(s) < 2:
                continue
            i = rng.randrange(len(s) - 1)
            s = s[:i] + s[i + 1] + s[i] + s[i + 2 :]
            cand = int(s) * (1 if value >= 0 else -1)
        else:
            cand = _left_to_right(nums, ops)
        if cand != value:
            return cand
    return value + 1


class MathTask:
    name = "math"
    description = "Is the stated result of an arithmetic expression (+ - *, with precedence) correct?"

    def __init__(self, seed: int = 0, judged_fraction: float = 0.05) -> None:
        self.seed = seed
        self.judged_fraction = judged_fraction

    def item(self, rng: random.Random, label: int) -> str:
        expr, nums, ops = _expression(rng, rng.choice([2, 3, 3]))
        value = eval(expr)  # noqa: S307 - digits and + - * only, generated above
        shown = value if label else _wrong(rng, value, nums, ops)
        return f"{expr}={shown}{QUESTION}"

    def corpus_line(self, rng: random.Random) -> str:
        if rng.random() < self.judged_fraction:
            label = rng.randint(0, 1)
            expr, nums, ops = _expression(rng, 2)
            value = eval(expr)  # noqa: S307
            shown = value if label else _wrong(rng, value, nums, ops)
            return judgement_line(f"{expr}={shown}{QUESTION}", label)
        expr, _, _ = _expression(rng, rng.choice([2, 3]))
        return f"{expr}={eval(expr)}"  # noqa: S307
