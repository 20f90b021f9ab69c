"""The searcher policy vs random search on synthetic W2S response surfaces with known effects (no training):
best score found after N evaluations, mean over starting directions and random seeds.

    python benchmarks/searcher_policy.py
"""

from __future__ import annotations

import random
import statistics
import zlib

from aar.agents.searcher import space
from aar.agents.searcher.directions import DIRECTIONS
from aar.agents.searcher.policy import Policy


def surface(kind: int):  # noqa: ANN201
    """Three made-up surfaces: additive effects, an interaction, and a narrow hyper-parameter optimum."""

    def f(recipe: dict, seed: int) -> float:
        r = space.normalize(recipe)
        s = 0.3
        if kind == 0:
            s += 0.2 * (r["filter"] == "weak_confidence") + 0.1 * (r["loss"] == "aux_conf")
            s -= 0.15 * (r["label_source"] == "strong_prior")
        elif kind == 1:  # the mix only helps together with agreement reweighting
            s += 0.25 * (r["label_source"] == "mix" and r["reweight"] == "agreement") - 0.05 * (
                r["rounds"] > 1
            )
        else:  # a narrow optimum of the learning rate and l2 under the confidence loss
            s += 0.1 * (r["loss"] == "aux_conf") + 0.1 * (r["lr"] == 3e-3) + 0.1 * (r["l2"] == 0.01)
        return s + random.Random(zlib.crc32(f"{space.key(recipe)}|{seed}".encode())).gauss(0, 0.01)

    return f


def random_recipe(rng: random.Random) -> dict:
    r = {c: rng.choice(v) for c, v in space.CATEGORICAL.items() if c != "mode"}
    r.update({c: rng.choice(g) for c, g in space.GRIDS.items()})
    return r


def main(budget: int = 24, reps: int = 4) -> None:
    for kind in range(3):
        f = surface(kind)
        pol_best, rnd_best = [], []
        for d in DIRECTIONS:
            for rep in range(reps):
                pol = Policy(d, "a", rng_seed=rep, modes=["probe"])
                for i in range(budget):
                    p = pol.propose()
                    if p is None:
                        break
                    pol.record(p, {str(s): f(p.recipe, s) for s in (0, 1)}, idea=f"i{i}")
                best = pol.best()
                pol_best.append(f(best.recipe, 7) if best else 0.0)  # re-scored on a fresh seed
                rng = random.Random(1000 * kind + 10 * rep + len(pol_best))
                cands = [random_recipe(rng) for _ in range(budget)]
                top = max(cands, key=lambda r: (f(r, 0) + f(r, 1)) / 2)
                rnd_best.append(f(top, 7))
        print(
            f"surface {kind}: policy best {statistics.mean(pol_best):.3f} "
            f"vs random {statistics.mean(rnd_best):.3f}"
            f" (fresh-seed score of the chosen recipe after {budget} evaluations, {len(pol_best)} runs)"
        )


if __name__ == "__main__":
    main()
