"""`world`: is a statement about a generated world of people true?

The world (names, ages, home towns) is fixed by the task seed, which the registry keys by the
install's task secret. Pretraining sees single facts
(`kabo 34.`: kabo is 34; `kabo#rema.`: kabo lives in rema) and true worked comparisons
(`kabo 34,tuxa 51:tuxa>kabo.`, `kabo#rema,tuxa#sofi:diff.`). Verification asks worked
comparisons ending in `?`; a false one misstates a fact (and concludes consistently from it) or
concludes wrongly from true facts, so it takes both memorised facts and the comparison to judge.
Judgement tokens appear in the corpus only for single home-town facts, never for comparisons.
"""

from __future__ import annotations

import random

from aar.tasks.common import QUESTION, judgement_line

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
        rng = random.Random(seed)  # the caller keys `seed` by the task secret
        self.people = _names(rng, n_people, 2)
        self.towns = _names(rng, n_towns, 3)
        self.age = {p: rng.randint(10, 89) for p in self.people}
        self.town = {p: rng.choice(self.towns) for p in self.people}
        self.judged_fraction = judged_fraction

    def _claim(self, rng: random.Random, label: int) -> str:
        """`kabo 34,tuxa 51:tuxa>kabo` (ages) or `kabo#rema,tuxa#sofi:diff` (home towns).
        A false claim either misstates one retrieved fact (the conclusion follows from what is
        stated) or states both facts right and draws the wrong conclusion."""
        a, b = rng.sample(self.people, 2)
        if rng.random() < 2 / 3:
            while self.age[a] == self.age[b]:
                a, b = rng.sample(self.people, 2)
            ages = {a: self.age[a], b: self.age[b]}
            flip = False
            if not label:
                if rng.random() < 0.7:
                    who = rng.choice([a, b])
                    wrong = ages[who]
                    while wrong == ages[who] or wrong == ages[b if who == a else a]:
                        wrong = max(10, min(89, ages[who] + rng.choice([-10, -5, -2, -1, 1, 2, 5, 10])))
                    ages[who] = wrong
                else:
                    flip = True
            older, younger = (a, b) if (ages[a] > ages[b]) != flip else (b, a)
            return f"{a} {ages[a]},{b} {ages[b]}:{older}>{younger}"
        towns = {a: self.town[a], b: self.town[b]}
        flip = False
        if not label:
            if rng.random() < 0.7:
                who = rng.choice([a, b])
                towns[who] = rng.choice([t for t in self.towns if t != towns[who]])
            else:
                flip = True
        together = (towns[a] == towns[b]) != flip
        return f"{a}#{towns[a]},{b}#{towns[b]}:{'same' if together else 'diff'}"

    def item(self, rng: random.Random, label: int) -> str:
        return self._claim(rng, label) + QUESTION

    def corpus_line(self, rng: random.Random) -> str:
        r = rng.random()
        p = rng.choice(self.people)
        if r < self.judged_fraction:
            label = rng.randint(0, 1)
            town = self.town[p] if label else rng.choice([t for t in self.towns if t != self.town[p]])
            return judgement_line(f"{p}#{town}{QUESTION}", label)
        if r < 0.35:
            return f"{p} {self.age[p]}."
        if r < 0.6:
            return f"{p}#{self.town[p]}."
        return self._claim(rng, 1) + "."
