"""`code`: is the stated execution trace and output of a short program correct? (truth: executing it)

Texts are straight-line programs followed by the value each statement assigned and the printed
output: `a=6;c=a*2;b=4+c;print(b)>6,12,16>16`. Pretraining sees correct traces of two- and
three-statement programs; verification asks three-statement ones ending in `?`. A wrong text is
wrong at one statement (a miscomputed value, or the wrong variable read) and consistent from there
on, output included, so copying checks find nothing: only knowing the arithmetic does. Judgement
tokens appear in the corpus only after two-statement programs.
"""

from __future__ import annotations

import random

from aar.tasks.common import QUESTION, judgement_line
from aar.tasks.math_task import _apply, _perturb

VARS = "abcdxyz"
Stmt = tuple[str, str, str, str]  # (name, left, op, right); left/right are names or digits


def _program(rng: random.Random, n_stmts: int) -> tuple[list[Stmt], str]:
    names = rng.sample(VARS, n_stmts)
    stmts: list[Stmt] = []
    for i, name in enumerate(names):
        if i == 0:
            stmts.append((name, str(rng.randint(0, 9)), "", ""))
            continue
        left = rng.choice(names[:i])
        op = rng.choice("+-*")
        right = str(rng.randint(0, 9)) if op == "*" or rng.random() < 0.6 else rng.choice(names[:i])
        a, b = (left, right) if rng.random() < 0.5 else (right, left)
        stmts.append((name, a, op, b))
    target = names[-1] if rng.random() < 0.8 else rng.choice(names)
    return stmts, target


def _run(stmts: list[Stmt], swap: tuple[int, str, str] | None = None,
         override: tuple[int, int] | None = None) -> list[int]:
    """The value each statement assigns, with one fault: `swap=(i, old, new)` reads `new` for `old`
    in statement i, `override=(i, v)` makes statement i assign v."""
    env: dict[str, int] = {}
    trace = []
    for i, (name, a, op, b) in enumerate(stmts):
        if swap and swap[0] == i:
            a, b = (swap[2] if a == swap[1] else a), (swap[2] if b == swap[1] else b)
        va = env[a] if a in env else int(a)
        value = va if not op else _apply(va, op, env[b] if b in env else int(b))
        if override and override[0] == i:
            value = override[1]
        env[name] = value
        trace.append(value)
    return trace


def _executed_trace(stmts: list[Stmt]) -> list[int]:
    """Ground truth: execute the program with Python and read back each assigned value."""
    env: dict[str, int] = {}
    exec(";".join(f"{n}={a}{op}{b}" for n, a, op, b in stmts), {}, env)  # noqa: S102 - generated arithmetic
    return [env[n] for n, _, _, _ in stmts]


def _source(stmts: list[Stmt], target: str) -> str:
    return ";".join(f"{n}={a}{op}{b}" for n, a, op, b in stmts) + f";print({target})"


def _text(stmts: list[Stmt], target: str, trace: list[int], out: int) -> str:
    return f"{_source(stmts, target)}>{','.join(map(str, trace))}>{out}"


def program_text(rng: random.Random, n_stmts: int, label: int) -> str:
    stmts, target = _program(rng, n_stmts)
    trace = _executed_trace(stmts)
    names = [s[0] for s in stmts]
    if not label:
        trace = _wrong_trace(rng, stmts, trace)
    return _text(stmts, target, trace, trace[names.index(target)])


def _wrong_trace(rng: random.Random, stmts: list[Stmt], trace: list[int]) -> list[int]:
    """A trace wrong at one statement and consistent from there on, so that no copy check finds it:
    either one value is miscomputed, or one statement reads the wrong variable."""
    names = [s[0] for s in stmts]
    for _ in range(20):
        i = rng.randrange(1, len(stmts))
        reads = [x for x in stmts[i][1::2] if x in names]
        others = [x for x in names[:i] if x not in reads]
        if rng.random() < 0.3 and reads and others:
            bad = _run(stmts, swap=(i, rng.choice(reads), rng.choice(others)))
        else:
            bad = _run(stmts, override=(i, _perturb(rng, trace[i])))
        if bad != trace:
            return bad
    return trace[:-1] + [_perturb(rng, trace[-1])]


class CodeTask:
    name = "code"
    description = "Is the stated trace and output of a short program (assignments with + - *) correct?"

    def __init__(self, judged_fraction: float = 0.05) -> None:
        self.judged_fraction = judged_fraction

    def item(self, rng: random.Random, label: int) -> str:
        return program_text(rng, 3, label) + QUESTION

    def corpus_line(self, rng: random.Random) -> str:
        if rng.random() < self.judged_fraction:
            label = rng.randint(0, 1)
            return judgement_line(program_text(rng, 2, label) + QUESTION, label)
        return program_text(rng, rng.choice([2, 3]), 1)
