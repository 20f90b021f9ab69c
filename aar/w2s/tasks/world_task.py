"""`world`: is a statement about a generated world of people true?

The world (names, ages, home towns) is fixed by the task seed. Pretraining sees single facts
(`kabo is 34.`, `kabo lives in rema.`) and true comparisons; verification asks comparisons
(`kabo is older than tuxa?`, `kabo lives with tuxa?`) whose answer needs two retrieved facts.
Judgement tokens appear in the corpus only for `lives in` facts, never for comparisons.
"""

from __future__ import annotations

import random

from aar.w2s.tasks.common import QUESTION, judgement_line, rng_for

CONS, VOWS = "bdfgklmnprstvz", "aeiou"


def _names(rng: random.Random, n: int, syllables: int) -> list[str]:
    out: set[str] = set()
    while len(out) < n:
        out.add("".join(rng.choice(CONS) + rng.choice(VOWS) for _ in range(syllables)))
    return sorted(out)


class WorldTask:
    name = "world"
    description = "Is a statement comparing two people of a generated world (age, home town) true?"

    def __init__(self, seed: int = 0, n_people: int = 300, n_towns: int = 12, judged_fraction: float = 0.05):
        rng = rng_for("world", seed)
        self.people = _names(rng, n_people, 2)
        self.towns = _names(rng, n_towns, 3)
        self.age = {p: rng.randint(10, 89) for p in self.people}
        self.town = {p: rng.choice(self.towns) for p in self.people}
        self.judged_fraction = judged_fraction

    def _pair(self, rng: random.Random, relation: str, label: int) -> tuple[str, str]:
        while True:
            a, b = rng.sample(self.people, 2)
            if relation == "older":
                if self.age[a] == self.age[b]:
                    continue
                if (self.age[a] > self.age[b]) == bool(label):
                    return a, b
            elif (self.town[a] == self.town[b]) == bool(label):
                return a, b

    def item(self, rng: random.Random, label: int) -> str:
        relation = rng.choice(["older", "older", "with"])
        a, b = self._pair(rng, relation, label)
        verb = "is older than" if relation == "older" else "lives with"
        return f"{a} {verb} {b}{QUESTION}"

    def corpus_line(self, rng: random.Random) -> str:
        r = rng.random()
        p = rng.choice(self.people)
        if r < self.judged_fraction:
            label = rng.randint(0, 1)
            town = self.town[p] if label else rng.choice([t for t in self.towns if t != self.town[p]])
            return judgement_line(f"{p} lives in {town}{QUESTION}", label)
        if r < 0.4:
            return f"{p} is {self.age[p]}."
        if r < 0.7:
            return f"{p} lives in {self.town[p]}."
        if r < 0.85:
            a, b = self._pair(rng, "older", 1)
            return f"{a} is older than {b}."
        a, b = self._pair(rng, "with", 1)
        return f"{a} lives with {b}."
