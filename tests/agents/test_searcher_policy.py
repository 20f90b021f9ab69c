"""The searcher's research policy on a synthetic objective: seeds first, improvement, insights, imports."""

from __future__ import annotations

import json
import random
import zlib

from aar.agents.searcher import space
from aar.agents.searcher.directions import DIRECTIONS, direction_by_name
from aar.agents.searcher.policy import Policy
from aarlab.w2s.recipe import Recipe


def objective(recipe: dict, seed: int) -> float:
    """A made-up response surface with known effects: filtering by confidence helps, the prior hurts."""
    r = space.normalize(recipe)
    score = 0.3
    score += 0.2 if r["filter"] == "weak_confidence" else 0.0
    score += 0.1 if r["loss"] == "aux_conf" else 0.0
    score -= 0.15 if r["label_source"] == "strong_prior" else 0.0
    score -= 0.05 * abs((r["filter_keep"] or 0.7) - 0.6) * 10 if r["filter"] != "none" else 0.0
    return score + random.Random(zlib.crc32(f"{space.key(recipe)}|{seed}".encode())).gauss(0, 0.005)


def drive(policy: Policy, steps: int, seeds: tuple[int, ...] = (0, 1)) -> list:
    props = []
    for i in range(steps):
        p = policy.propose()
        assert p is not None
        props.append(p)
        policy.record(p, {str(s): objective(p.recipe, s) for s in seeds}, idea=f"idea-{i:03d}")
    return props


def test_directions_are_many_distinct_and_valid() -> None:
    assert len(DIRECTIONS) >= 9
    assert len({d.name for d in DIRECTIONS}) == len(DIRECTIONS)
    assert len({d.text for d in DIRECTIONS}) == len(DIRECTIONS)
    seeds = {space.key(s) for d in DIRECTIONS for s in d.seeds}
    assert len(seeds) >= 2 * 9 - 2  # directions start from different places
    for d in DIRECTIONS:
        for s in d.seeds:
            Recipe.model_validate(s)


def test_compose_runs_the_second_family_on_the_first_familys_labels() -> None:
    gmm = {"label_source": "direction", "direction_method": "gmm", "feature_dim": 64, "loss": "gce"}
    icm = {"label_source": "icm", "icm_steps": 100, "loss": "aux_conf", "feature_dim": 16}
    child = space.compose(gmm, icm)
    assert child is not None
    # the input's label-stage parameters and feature space come along, the second stage's student stays
    assert space.compact(child) == {
        "label_source": "icm", "input_labels": "direction", "direction_method": "gmm", "feature_dim": 64,
        "icm_steps": 100, "loss": "aux_conf",
    }
    knn_of_icm = space.compose(icm, {"label_source": "knn", "knn_k": 20})
    assert knn_of_icm is not None and knn_of_icm["icm_steps"] == 100 and knn_of_icm["knn_k"] == 20
    assert space.compose(icm, gmm) is None  # a direction takes no input labels
    assert space.compose(icm, icm) is None and space.compose({"label_source": "weak_soft"}, icm) is None
    assert space.compose(child, {"label_source": "knn"}) is None  # one level of composition
    stale = {**gmm, "input_labels": "icm"}  # inactive for a direction: no bar to composing it
    assert space.compose(stale, icm) == child


def test_space_mutations_change_one_component_and_key_ignores_inactive_params() -> None:
    base = {"filter": "none", "filter_keep": 0.3}
    assert space.key(base) == space.key({})  # filter_keep is inactive without a filter
    r = {"filter": "weak_confidence", "filter_keep": 0.5}
    for comp in space.COMPONENTS:
        if not space.active(comp, r):
            continue
        for v in space.neighbours(comp, r):
            child = space.mutate(r, comp, v)
            d = space.diff(r, child)
            assert comp in d
            assert set(d) - {comp} <= {p for p in space.CONDITIONAL if comp in space.switches(p)}


def test_policy_starts_from_seeds_then_climbs() -> None:
    finals, gains = [], []
    for direction in DIRECTIONS:
        for rng_seed in range(3):
            pol = Policy(direction, "a", rng_seed=rng_seed, modes=["probe"])
            props = drive(pol, 32)  # the space grew with the strong-structure families: 24 were enough before
            n = len(direction.seeds)
            assert [p.origin for p in props[:n]] == ["seed"] * n
            assert [space.key(p.recipe) for p in props[:n]] == [
                space.key(pol._fit_modes(s)) for s in direction.seeds
            ]
            assert props[0].hypothesis and direction.name in props[0].hypothesis
            assert len({space.key(p.recipe) for p in props}) == len(props)  # never repeats itself
            later = props[n:]
            assert all(p.parent is not None for p in later if p.origin != "explore")  # builds on something
            assert sum(p.origin == "explore" for p in later) <= 3 * len(later) // 4  # exploration is bounded
            assert all(p.recipe.get("mode") in (None, "probe") for p in props)
            seed_best = max(pol.trials[space.key(pol._fit_modes(s))].score or 0 for s in direction.seeds)
            best = pol.best()
            assert best is not None and best.score is not None
            assert best.score >= seed_best
            finals.append(best.score)
            gains.append(best.score - seed_best)
    # on this surface the optimum is 0.6 and the directions' seeds score 0.15-0.45
    assert sum(finals) / len(finals) > 0.5
    assert sum(g > 0.05 for g in gains) >= 0.8 * len(gains)


def test_insights_have_the_right_sign() -> None:
    pol = Policy(direction_by_name("confidence-filtering"), "a", rng_seed=3, modes=["probe"])
    insights = []
    for _ in range(40):
        drive(pol, 1)
        insights += pol.new_insights()
    assert insights, pol.effects.keys()
    for ins in insights:
        if ins.key.startswith("filter="):
            assert (ins.metrics["effect"] > 0) == (ins.key == "filter=weak_confidence"), ins
        if ins.key == "label_source=strong_prior":
            assert ins.metrics["effect"] < 0
        if ins.key == "loss=aux_conf":
            assert ins.metrics["effect"] > 0
        assert ins.metrics["n"] >= 2
    keys = [i.key for i in insights]
    assert len(keys) == len(set(keys))  # each posted once


def test_hypothesis_before_a_new_component_value() -> None:
    pol = Policy(direction_by_name("soft-label-tuning"), "a", rng_seed=1, modes=["probe"])
    seen: set[str] = {f"{c}={space.normalize(s)[c]}" for s in pol.direction.seeds for c in space.CATEGORICAL}
    for p in drive(pol, 20)[2:]:
        new = [
            f"{c}={v[1]}"
            for c, v in p.changes.items()
            if c in space.CATEGORICAL and f"{c}={v[1]}" not in seen
        ]
        if new:
            assert p.hypothesis and all(t in p.hypothesis for t in new)
        seen.update(f"{c}={v[1]}" for c, v in p.changes.items() if c in space.CATEGORICAL)


def test_builds_on_a_colleagues_better_result_and_state_round_trips() -> None:
    pol = Policy(direction_by_name("self-training"), "a", rng_seed=0, modes=["probe"])
    drive(pol, 3)
    own = pol.best(own_only=True)
    assert own is not None and own.score is not None
    theirs = {"filter": "weak_confidence", "filter_keep": 0.6, "loss": "aux_conf"}
    t = pol.absorb(theirs, own.score + 0.2, "b", finding_id=17, snapshot_id="ab" * 32)
    assert t is not None and pol.absorb(theirs, 0.9, "b", 18, "cd" * 32) is None  # known recipe: once
    saved = json.loads(json.dumps(pol.to_json()))
    p = pol.propose()
    assert p is not None and p.origin == "build" and p.parent is t
    assert p.parent.finding_id == 17 and p.parent.snapshot_id == "ab" * 32
    assert len(space.diff(theirs, p.recipe)) >= 1
    clone = Policy(direction_by_name("self-training"), "a", rng_seed=99, modes=["probe"])
    clone.load_json(saved)
    q = clone.propose()
    assert q is not None and space.key(q.recipe) == space.key(p.recipe)
    # a much worse foreign result is remembered but not built on
    worse = pol.absorb({"label_source": "strong_prior"}, -1.0, "c", 19, "ef" * 32)
    assert worse is not None and worse.key not in pol.pending_builds
