"""The TPE policy and its paired statistics on a simulated task: per-item predictions whose accuracy a
made-up response surface sets, a hidden public half, public accuracies rounded like the server's."""

from __future__ import annotations

import json
import zlib

import numpy as np
import pytest

from aar.agents.searcher import space
from aar.agents.searcher.directions import DIRECTIONS, direction_by_name
from aar.agents.searcher.tpe import TpePolicy
from aarlab.w2s.paired import noise_sd, pack, paired_test, unpack

N_TEST, N_PUBLIC, WEAK, STRONG = 2000, 1000, 0.6, 0.9


class SimTask:
    """Items with a latent difficulty; a run gets the easiest `accuracy` share right (plus run noise),
    so similar recipes make similar errors, as real ones do."""

    def __init__(self, surface, seed: int = 0, run_noise: float = 0.3) -> None:  # noqa: ANN001
        rng = np.random.default_rng(seed)
        self.truth = rng.integers(0, 2, N_TEST)
        self.public = np.zeros(N_TEST, dtype=bool)
        self.public[rng.permutation(N_TEST)[:N_PUBLIC]] = True
        self.difficulty = rng.uniform(size=N_TEST)
        self.surface, self.run_noise = surface, run_noise

    def run(self, recipe: dict, seed: int) -> tuple[np.ndarray, float, float]:
        acc = self.surface(space.normalize(recipe))
        g = np.random.default_rng(zlib.crc32(f"{space.key(recipe)}|{seed}".encode()))
        s = self.difficulty + self.run_noise * g.normal(size=N_TEST)
        wrong = s > np.quantile(s, acc)
        preds = np.where(wrong, 1 - self.truth, self.truth)
        pub_acc = round(float((preds == self.truth)[self.public].mean()), 3)
        return preds, pub_acc, round((pub_acc - WEAK) / (STRONG - WEAK), 3)


def surface(r: dict) -> float:
    """ICM and a confidence filter help, the strong prior hurts; the rest does nothing."""
    acc = 0.66 + 0.12 * (r["label_source"] == "icm") + 0.06 * (r["filter"] == "weak_confidence")
    acc -= 0.06 * (r["label_source"] == "strong_prior")
    return acc


def drive(pol: TpePolicy, task: SimTask, steps: int) -> list:
    props = []
    for i in range(steps):
        p = pol.propose()
        assert p is not None
        props.append(p)
        scores, accs, preds = {}, {}, {}
        for seed in p.seeds or [int(s) for s in pol.seeds]:
            pr, acc, pgr = task.run(p.recipe, seed)
            scores[str(seed)], accs[str(seed)], preds[str(seed)] = pgr, acc, pack(pr)
        pol.record(p, scores, idea=f"idea-{i:03d}", accuracy=accs, preds=preds)
    return props


def policy(name: str = "mutual-predictability", rng_seed: int = 0, **kw) -> TpePolicy:  # noqa: ANN003
    return TpePolicy(
        direction_by_name(name),
        "a",
        rng_seed=rng_seed,
        modes=["probe"],
        seeds=[0],
        extra_seeds=[1, 2],
        n_public=N_PUBLIC,
        n_test=N_TEST,
        **kw,
    )


# -- statistics -----------------------------------------------------------------------------------


def test_pack_round_trips() -> None:
    x = np.random.default_rng(0).integers(0, 2, 2001)
    assert np.array_equal(unpack(pack(x.tolist()), 2001), x)


def test_paired_test_recovers_mcnemar_counts_of_the_public_half() -> None:
    task = SimTask(surface)
    good, bad = {"label_source": "icm"}, {"label_source": "weak_soft"}
    runs = {}
    for name, r in (("good", good), ("bad", bad)):
        preds, acc, pgr = task.run(r, 0)
        runs[name] = ({"0": {"pgr": pgr, "accuracy": acc, "preds": pack(preds)}}, preds)
    test = paired_test(runs["good"][0], runs["bad"][0], N_PUBLIC, N_TEST)
    assert test is not None
    pg, pb = runs["good"][1], runs["bad"][1]
    right_g, right_b = (pg == task.truth)[task.public], (pb == task.truth)[task.public]
    b_true, c_true = int((right_g & ~right_b).sum()), int((~right_g & right_b).sum())
    assert test.b - test.c == pytest.approx(b_true - c_true, abs=1e-6)  # exact from the public scores
    assert abs(test.discordant - (b_true + c_true)) < 4 * np.sqrt(b_true + c_true)  # estimated
    assert test.p_item < 1e-6 and test.direction == 1 and test.delta_pgr > 0.3


def test_paired_test_finds_no_difference_between_equal_recipes() -> None:
    task = SimTask(surface)
    pvals = []
    for k in range(20):  # two recipes of the same quality (knn_k does nothing on this surface)
        a, b = {"knn_k": 3, "filter": "knn", "filter_keep": 0.3 + 0.02 * k}, {"knn_k": 5, "filter": "knn"}
        (pa, acc_a, pgr_a), (pb, acc_b, pgr_b) = task.run(a, 0), task.run(b, 0)
        t = paired_test(
            {"0": {"pgr": pgr_a, "accuracy": acc_a, "preds": pack(pa)}},
            {"0": {"pgr": pgr_b, "accuracy": acc_b, "preds": pack(pb)}},
            N_PUBLIC,
            N_TEST,
        )
        assert t is not None
        pvals.append(t.p_item)
    assert sum(p < 0.01 for p in pvals) <= 1
    assert np.median(pvals) > 0.2


def test_noise_floor_is_the_pooled_seed_spread() -> None:
    assert noise_sd([{"0": 0.5}]) is None
    assert noise_sd([{"0": 0.5, "1": 0.7}, {"0": 0.1, "1": 0.1, "2": 0.1}]) == pytest.approx(
        np.sqrt(0.02 / 3)
    )


# -- the policy -----------------------------------------------------------------------------------


def test_starts_from_seeds_and_proposes_valid_new_recipes() -> None:
    for d in DIRECTIONS[:6]:
        pol = TpePolicy(
            d,
            "a",
            rng_seed=1,
            modes=["probe"],
            seeds=[0],
            extra_seeds=[1, 2],
            n_public=N_PUBLIC,
            n_test=N_TEST,
        )
        props = drive(pol, SimTask(surface), 14)
        assert props[0].origin == "seed" and space.key(props[0].recipe) == space.key(
            pol._fit_modes(d.seeds[0])
        )
        assert props[0].hypothesis and d.name in props[0].hypothesis
        keys = [space.key(p.recipe) for p in props if p.origin != "confirm"]
        assert len(keys) == len(set(keys))  # never runs a recipe twice (replications aside)
        assert all(p.recipe.get("mode") == "probe" for p in props)
        assert {p.origin for p in props} <= {"seed", "tpe", "confirm", "ablate", "compose"}
        assert sum(p.origin == "confirm" for p in props) <= pol.max_confirms
        for p in props:
            if p.origin == "confirm":
                assert p.seeds and str(p.seeds[0]) not in pol.seeds
        tpe = [p for p in props if p.origin == "tpe"]
        assert tpe and all(p.tpe_number is not None for p in tpe)
        if d.fixed:  # while new to its direction, TPE holds the direction's components
            first = tpe[0].recipe
            assert all(space.normalize(first)[c] == v for c, v in d.fixed.items())


def test_climbs_to_the_optimum_of_the_surface() -> None:
    finals = []
    for rng_seed in range(4):
        pol = policy("noisy-channel", rng_seed)  # starts far from the optimum (icm + confidence filter)
        drive(pol, SimTask(surface), 30)
        best = pol.best(own_only=True)
        assert best is not None
        finals.append(surface(best.recipe))
    # the optimum is 0.84 (both effects), one effect gives 0.72 or 0.78; the direction's seeds reach 0.66
    assert min(finals) >= 0.72 and np.mean(finals) >= 0.78


def test_insights_come_from_significant_paired_tests_with_the_right_sign() -> None:
    insights = []
    for rng_seed in range(2):
        pol = policy("mutual-predictability", rng_seed)
        for _ in range(30):
            drive(pol, SimTask(surface), 1)
            insights += pol.new_insights()
        assert pol.noise_sd() is not None  # replications measured the noise floor
    assert insights
    for ins in insights:
        assert ins.metrics["p_value"] < 0.01
        comp, rest = ins.key.split("=", 1) if "=" in ins.key else (ins.key.split(" ")[0], "")
        assert comp in ("label_source", "filter"), ins.title  # the components with an effect
        if comp == "label_source":
            assert rest in ("icm", "weak_soft", "weak_hard", "mix", "knn", "channel", "direction"), ins.title
            assert rest != "strong_prior"
        if comp == "filter":
            assert rest == "weak_confidence", ins.title
    keys = [i.key for i in insights[: len(insights) // 2]]
    assert len(keys) == len(set(keys))


def test_incumbent_changes_only_on_a_significant_improvement() -> None:
    flat = SimTask(lambda r: 0.70 + 0.004 * (r["loss"] == "gce"))  # a gain far below the noise
    pol = policy("robust-losses")
    drive(pol, flat, 12)
    inc = pol.trials[pol.incumbent]
    assert inc.origin == "seed"
    best = pol.best(own_only=True)
    assert best is not None and best.key != inc.key  # a luckier run exists, but it is not the incumbent
    assert "not distinguishable" in pol.note(best)


def test_imports_are_replicated_and_state_survives_a_restart() -> None:
    pol = policy("capacity-control")
    task = SimTask(surface)
    drive(pol, task, 4)
    theirs = {"label_source": "icm", "filter": "weak_confidence", "filter_keep": 0.6}
    t = pol.absorb(theirs, 0.9, "b", finding_id=17, snapshot_id="ab" * 32)
    assert t is not None and pol.absorb(theirs, 0.9, "b", 18, "cd" * 32) is None
    weak_import = pol.absorb({"label_source": "strong_prior"}, -0.5, "c", 19, "ef" * 32)
    assert weak_import is not None and weak_import.key not in pol.pending_builds
    # one replication per agent (max_replications): a second competitive import is learned, not re-run
    second = pol.absorb({"label_source": "knn", "knn_k": 20}, 0.95, "d", 20, "ab" * 32)
    assert second is not None and second.key not in pol.pending_builds and t.key in pol.pending_builds
    n_study = len(pol.study.trials)
    saved = json.loads(json.dumps(pol.to_json()))
    p = pol.propose()
    assert p is not None and p.origin == "replicate" and p.parent is t and space.diff(theirs, p.recipe) == {}
    clone = policy("capacity-control", rng_seed=5)
    clone.load_json(saved)
    assert len(clone.study.trials) == n_study
    q = clone.propose()
    assert q is not None and q.origin == "replicate" and space.key(q.recipe) == space.key(p.recipe)
    before = {k for k, x in clone.trials.items() if x.agent == "a"}
    props = drive(clone, task, 3)  # and it goes on proposing new recipes after the restart
    new = {k for k, x in clone.trials.items() if x.agent == "a"} - before
    assert len(new) >= 2 and all(p.origin in ("tpe", "confirm", "ablate", "compose") for p in props)


def test_an_agent_tries_its_own_seed_recipes_before_a_colleagues_result() -> None:
    pol = policy("capacity-control")
    t = pol.absorb({"label_source": "icm"}, 0.9, "b", finding_id=3, snapshot_id="ab" * 32)
    assert t is not None and t.key in pol.pending_builds
    origins = [q["origin"] for q in pol.queue]
    assert origins == ["seed"] * len(pol.direction.seeds) + ["replicate"], origins


def composed_surface(r: dict) -> float:
    """A truth direction (gmm) helps, ICM helps, ICM started from the gmm direction's labels helps most."""
    gmm = r["direction_method"] == "gmm"
    if r["label_source"] == "icm" and r["input_labels"] == "direction":
        return 0.70 + 0.16 * gmm
    return 0.66 + 0.06 * (r["label_source"] == "icm") + 0.05 * (r["label_source"] == "direction") * (1 + gmm)


def test_composes_its_own_family_with_a_colleagues_and_keeps_the_better_composition() -> None:
    pol = policy("mutual-predictability")
    task = SimTask(composed_surface)
    drive(pol, task, 2)  # its icm seeds
    assert not any(q["origin"] == "compose" for q in pol.queue)  # one family known: nothing to compose
    cluster = {"label_source": "direction", "direction_method": "cluster_means", "input_labels": "icm"}
    pol.absorb(cluster, 0.5, "c", 3, "cd" * 32)  # its input_labels is inactive (a direction): no bar
    composed = [q for q in pol.queue if q["origin"] == "compose"]
    assert len(composed) == 1 and composed[0]["recipe"]["direction_method"] == "cluster_means"
    # a better direction turns up before the composition runs: it takes the queued one's place
    theirs = {"label_source": "direction", "direction_method": "gmm", "feature_dim": 64}
    pol.absorb(theirs, 0.55, "b", finding_id=4, snapshot_id="ab" * 32)
    composed = [q for q in pol.queue if q["origin"] == "compose"]
    assert len(composed) == 1 and "on the labels of direction" in composed[0]["reason"]
    r = composed[0]["recipe"]
    assert (r["label_source"], r["input_labels"], r["direction_method"], r["feature_dim"]) == (
        "icm", "direction", "gmm", 64
    )
    props = drive(pol, task, 4)
    assert "compose" in [p.origin for p in props]
    best = pol.best(own_only=True)
    assert best is not None and best.recipe["input_labels"] == "direction"
    # the new incumbent's first ablation takes its input back to the weak labels
    ablated = [q["recipe"] for q in pol.queue if q["origin"] == "ablate"] + [
        t.recipe for t in pol.trials.values() if t.origin == "ablate"
    ]
    assert any(r["label_source"] == "icm" and r["input_labels"] == "weak" for r in ablated), ablated
    assert pol.compositions <= pol.max_compositions
    clone = policy("mutual-predictability", rng_seed=3)
    clone.load_json(json.loads(json.dumps(pol.to_json())))
    assert clone.compositions == pol.compositions
