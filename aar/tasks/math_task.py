"""`math`: is a worked arithmetic chain correct?

Texts are chains that reduce an expression one operation at a time, with precedence:
`8+9*4=8+36=44`. Pretraining sees correct chains of two and three operands; verification asks
three-operand chains ending in `?` (`8+9*4=8+36=44?`). A wrong chain has a wrong final value
(off by one or two, by ten, swapped digits), a wrong intermediate value, or a precedence error
carried through consistently (`8+9*4=17*4=68`), so no single surface cue solves it.

Each step is a two-operand fact the strong model learns well in pretraining and the weak model
only partly, which is what makes the ceiling high and the weak supervisor imperfect. The judgement
tokens `<yes>/<no>` appear in the corpus only after two-operand chains, so judging three-operand
chains has to be elicited (the strong model's zero-shot judgement is near chance on them).
"""

from __future__ import annotations

import random

from aar.tasks.common import QUESTION, judgement_line

Chain = list[tuple[list[int], list[str]]]


def _operand(rng: random.Random) -> int:
    return rng.randint(0, 9) if rng.random() < 0.9 else rng.randint(10, 19)


def _apply(a: int, op: str, b: int) -> int:
    return a + b if op == "+" else a - b if op == "-" else a * b


def _reduce_once(nums: list[int], ops: list[str]) -> tuple[list[int], list[str]]:
    i = ops.index("*") if "*" in ops else 0
    return nums[:i] + [_apply(nums[i], ops[i], nums[i + 1])] + nums[i + 2 :], ops[:i] + ops[i + 1 :]


def _fmt(nums: list[int], ops: list[str]) -> str:
    return str(nums[0]) + "".join(o + str(n) for o, n in zip(ops, nums[1:], strict=True))


def _chain(rng: random.Random, n_ops: int) -> Chain:
    nums = [_operand(rng) for _ in range(n_ops)]
    ops = [rng.choice("+-*") for _ in range(n_ops - 1)]
    chain = [(nums, ops)]
    while len(chain[-1][0]) > 1:
        chain.append(_reduce_once(*chain[-1]))
    return chain


def _perturb(rng: random.Random, value: int) -> int:
    for _ in range(20):
        r = rng.random()
        if r < 0.45:
            cand = value + rng.choice([-2, -1, 1, 2])
        elif r < 0.7:
            cand = value + rng.choice([-10, 10])
        else:
            s = str(abs(value))
            if len(s) < 2:
                continue
            i = rng.randrange(len(s) - 1)
            s = s[:i] + s[i + 1] + s[i] + s[i + 2 :]
            cand = int(s) * (1 if value >= 0 else -1)
        if cand != value:
            return cand
    return value + 1


def _wrong_parts(rng: random.Random, chain: Chain) -> list[str]:
    parts = [_fmt(*c) for c in chain]
    nums, ops = chain[0]
    r = rng.random()
    if len(nums) == 3 and r < 0.3 and ops[0] != "*" and ops[1] == "*":
        left = [_apply(nums[0], ops[0], nums[1]), nums[2]]  # left to right, ignoring precedence
        return [parts[0], _fmt(left, ops[1:]), str(_apply(left[0], ops[1], left[1]))]
    if len(nums) == 3 and r < 0.5:
        mid_nums, mid_ops = chain[1]
        bad = list(mid_nums)
        j = rng.randrange(len(bad))
        bad[j] = _perturb(rng, bad[j])
        parts[1] = _fmt(bad, mid_ops)  # the final value still follows the correct step
        return parts
    parts[-1] = str(_perturb(rng, chain[-1][0][0]))
    return parts


def chain_holds(text: str) -> bool:
    """The ground truth: a chain is correct when every part has the value of the first."""
    parts = text.rstrip(QUESTION).split("=")
    return all(eval(p) == eval(parts[0]) for p in parts[1:])  # noqa: S307 - digits and + - * only


def chain_text(rng: random.Random, n_ops: int, label: int) -> str:
    chain = _chain(rng, n_ops)
    if label:
        return "=".join(_fmt(*c) for c in chain)
    for _ in range(20):
        text = "=".join(_wrong_parts(rng, chain))
        if not chain_holds(text):  # e.g. a precedence slip in 6+1*1 changes no value: draw again
            return text
    parts = [_fmt(*c) for c in chain]
    parts[-1] = str(_perturb(rng, chain[-1][0][0]))
    return "=".join(parts)


class MathTask:
    name = "math"
    description = "Is a worked arithmetic chain (+ - *, reduced with precedence) correct?"

    def __init__(self, judged_fraction: float = 0.05) -> None:
        self.judged_fraction = judged_fraction

    def item(self, rng: random.Random, label: int) -> str:
        return chain_text(rng, 3, label) + QUESTION

    def corpus_line(self, rng: random.Random) -> str:
        if rng.random() < self.judged_fraction:
            label = rng.randint(0, 1)
            return judgement_line(chain_text(rng, 2, label) + QUESTION, label)
        return chain_text(rng, rng.choice([2, 3]), 1)
