"""Paired statistics from what a researcher can see: its own per-item test predictions and public scores.

An agent never sees which test items are right, nor which items form the public half. It does see
its own predictions on every test item and, for each evaluation, the public accuracy (a multiple of
1/n_public, rounded to 3 decimals). That is enough for an exact paired test of two runs on the items
both were scored on:

- items where two runs agree add nothing to acc_A - acc_B; on an item where two binary predictions
  disagree exactly one of them is right. So n_public * (acc_A - acc_B) = b - c, McNemar's
  discordant counts on the public half (b: A right and B wrong; c: the reverse);
- b + c, the public disagreements, is estimated from all test disagreements D, as the public half
  is a uniformly random half: n_d = D * n_public / n_test (hypergeometric, s.d. about sqrt(D)/2);
- under H0 (neither run is more often right where they differ) b ~ Binomial(n_d, 1/2): the exact
  two-sided binomial test, summed over the seeds both runs were scored on.

That covers item noise: would the difference hold on other items (the overseer's held-out draw)?
It does not cover training noise (another seed, other weak labels, another model). For that the
agent keeps its own noise floor: the standard deviation of one recipe's public PGR across seeds
(the items are the same, so this is pure training-side noise), pooled over every recipe it ran on
two or more seeds. A difference counts when the paired test rejects H0 at `alpha` *and* the mean
PGR difference exceeds twice the training-side standard error of a difference of two means over the
shared seeds (no cancellation assumed from pairing on a seed: conservative).

A bootstrap over seeds is not used: with 1-3 seeds per recipe it has next to nothing to resample.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np


def pack(preds: Sequence[int]) -> str:
    """0/1 predictions as base64 of their packed bits (what a Trial stores)."""
    return base64.b64encode(np.packbits(np.asarray(preds, dtype=np.uint8)).tobytes()).decode()


def unpack(packed: str, n: int) -> np.ndarray:
    return np.unpackbits(np.frombuffer(base64.b64decode(packed), dtype=np.uint8), count=n).astype(np.int8)


@dataclass
class PairedTest:
    delta_pgr: float  # mean over shared seeds of pgr_A - pgr_B (public)
    delta_correct: float  # b - c summed over seeds (public items)
    discordant: float  # estimated b + c summed over seeds
    b: float
    c: float
    p_item: float  # exact two-sided binomial (McNemar) p-value
    seeds: list[str]
    floor: float | None  # twice the training-side s.e. of the difference (None: not measured yet)
    alpha: float

    @property
    def significant(self) -> bool:
        return self.p_item < self.alpha and (self.floor is None or abs(self.delta_pgr) > self.floor)

    @property
    def direction(self) -> int:
        return (self.delta_pgr > 0) - (self.delta_pgr < 0)

    def describe(self) -> str:
        floor = (
            "training-side noise floor not measured yet (item noise only)"
            if self.floor is None
            else f"noise floor {self.floor:.3f} PGR"
        )
        return (
            f"ΔPGR {self.delta_pgr:+.3f} over seed(s) {', '.join(self.seeds)}; McNemar on the public "
            f"half: b≈{self.b:.0f}, c≈{self.c:.0f} of ≈{self.discordant:.0f} discordant items, "
            f"p={self.p_item:.2g}; {floor}"
        )

    def to_json(self) -> dict:
        return asdict(self)


def binom_two_sided(k: int, n: int) -> float:
    """Exact two-sided p-value of k successes in n fair trials."""
    if n <= 0:
        return 1.0
    from scipy.stats import binomtest

    return float(binomtest(k, n, 0.5).pvalue)


def paired_test(
    a: dict[str, dict],
    b: dict[str, dict],
    n_public: int,
    n_test: int,
    noise_sd: float | None = None,
    alpha: float = 0.01,
) -> PairedTest | None:
    """Compare runs A and B. Each maps seed -> {"pgr", "accuracy", "preds" (packed)}; only seeds both
    have, with predictions, count. None when there are none."""
    seeds = [
        s
        for s in a
        if s in b
        and a[s].get("preds")
        and b[s].get("preds")
        and a[s].get("accuracy") is not None
        and b[s].get("accuracy") is not None
    ]
    if not seeds:
        return None
    delta, disc, dpgr = 0.0, 0.0, []
    for s in seeds:
        pa, pb = unpack(a[s]["preds"], n_test), unpack(b[s]["preds"], n_test)
        d_all = int((pa != pb).sum())
        d = n_public * (float(a[s]["accuracy"]) - float(b[s]["accuracy"]))
        delta += d
        disc += max(abs(d), d_all * n_public / n_test)
        dpgr.append(float(a[s]["pgr"]) - float(b[s]["pgr"]))
    bb, cc = (disc + delta) / 2, (disc - delta) / 2
    n = int(round(disc))
    k = min(n, max(0, int(round(bb))))
    floor = None if noise_sd is None else 2 * noise_sd * math.sqrt(2 / len(seeds))
    return PairedTest(sum(dpgr) / len(dpgr), delta, disc, bb, cc, binom_two_sided(k, n), seeds, floor, alpha)


def noise_sd(runs: Iterable[dict[str, float]]) -> float | None:
    """Pooled standard deviation of one recipe's public PGR across seeds, over recipes with >= 2 seeds."""
    ss, dof = 0.0, 0
    for scores in runs:
        v = [float(x) for x in scores.values()]
        if len(v) >= 2:
            m = sum(v) / len(v)
            ss += sum((x - m) ** 2 for x in v)
            dof += len(v) - 1
    return math.sqrt(ss / dof) if dof else None
