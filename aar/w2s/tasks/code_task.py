"""`code`: is the stated output of a short straight-line program correct? (truth: executing it)

Pretraining sees `program>output`; verification asks `program>output?`. Judgement tokens appear in
the corpus only for two-statement programs.
"""

from __future__ import annotations

import random

from aar.w2s.tasks.common import QUESTION, judgement_line

VARS = "abcdxyz"


def _program(rng: random.Random, n_stmts: int) -> tuple[str, dict[str, int], str]:
    names = rng.sample(VARS, n_stmts)
    stmts: list[str] = []
    for i, name in enumerate(names):
        if i == 0:
            stmts.append(f"{name}={rng.randint(0, 9)}")
            continue
        left = rng.choice(names[:i])
        right = str(rng.randint(0, 9)) if rng.random() < 0.6 else rng.choice(names[:i])
        a, b = (left, right) if rng.random() < 0.5 else (right, left)
        stmts.append(f"{name}={a}{rng.choice('+-*')}{b}")
    target = names[-1] if rng.random() < 0.8 else rng.choice(names)
    env: dict[str, int] = {}
    exec(";".join(stmts), {}, env)  # noqa: S102 - generated straight-line integer arithmetic
    return ";".join(stmts) + f";print({target})", env, target


def _wrong(rng: random.Random, value: int, env: dict[str, int]) -> int:
    others = [v for v in env.values() if v != value]
    for _ in range(20):
        r = rng.random()
        if r < 0.4:
            cand = value + rng.choice([-2, -1, 1, 2])
        elif r < 0.6:
            cand = value + rng.choice([-10, 10])
        elif others:
            cand = rng.choice(others)
        else:
            continue
        if cand != value:
            return cand
    return value + 1


class CodeTask:
    name = "code"
    description = "Is the stated output of a short program (assignments with + - *, then print) correct?"

    def __init__(self, seed: int = 0, judged_fraction: float = 0.05) -> None:
        self.seed = seed
        self.judged_fraction = judged_fraction

    def item(self, rng: random.Random, label: int) -> str:
        prog, env, target = _program(rng, rng.choice([2, 3, 3]))
        value = env[target]
        shown = value if label else _wrong(rng, value, env)
        return f"{prog}>{shown}{QUESTION}"

    def corpus_line(self, rng: random.Random) -> str:
        if rng.random() < self.judged_fraction:
            label = rng.randint(0, 1)
            prog, env, target = _program(rng, 2)
            shown = env[target] if label else _wrong(rng, env[target], env)
            return judgement_line(f"{prog}>{shown}{QUESTION}", label)
        prog, env, target = _program(rng, rng.choice([2, 3]))
        return f"{prog}>{env[target]}"
