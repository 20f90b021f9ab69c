"""The probing detector on its own: every signature against planted designs, and never against honest
re-runs (real recipe runs on the tiny task, and a difficulty model of honest methods at full size)."""

from __future__ import annotations

import json
import random
import tempfile
from pathlib import Path

import numpy as np
import pytest

from aar.server.probing import ProbingConfig, TaskPool

N_PUB = 1000


def _labels(seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, N_PUB).astype(np.uint8)


def _feed(pool: TaskPool, y: np.ndarray, vectors, agents=None, private_acc=None) -> dict[int, list[str]]:  # noqa: ANN001
    flags: dict[int, list[str]] = {}
    for i, v in enumerate(vectors):
        agent = agents[i] if agents is not None else 1
        acc = float((v == y).mean())
        prv = private_acc[i] if private_acc is not None else acc
        for verdict in pool.add(agent, v, acc, prv, N_PUB):
            flags[verdict.agent_id] = verdict.signatures
    return flags


def _model(y: np.ndarray, rng: np.random.Generator, acc: float = 0.75) -> np.ndarray:
    return np.where(rng.random(y.size) < acc, y, 1 - y).astype(np.uint8)


def _honest_runs(y: np.ndarray, n_methods: int, seeds: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Honest methods: each item has a difficulty; a method gets it right when its skill beats the
    difficulty (plus a little seed noise). Methods and seeds disagree on the hard items."""
    difficulty = rng.normal(0, 1, y.size)
    runs = []
    for _ in range(n_methods):
        skill = rng.normal(0.7, 0.3)
        bias = rng.normal(0, 0.2, y.size)  # each method finds some items easier than others
        for _ in range(seeds):
            right = difficulty < skill + bias + rng.normal(0, 0.15, y.size)
            runs.append(np.where(right, y, 1 - y).astype(np.uint8))
    order = rng.permutation(len(runs))
    return [runs[i] for i in order]


@pytest.mark.parametrize("k", [5, 20, 50, 200])
def test_star_and_chain_blocks_of_any_size_are_flagged(k: int) -> None:
    y, rng = _labels(), np.random.default_rng(k)
    base = _model(y, rng)
    star = [base] + [base ^ (rng.random(N_PUB) < k / N_PUB).astype(np.uint8) for _ in range(299)]
    assert 1 in _feed(TaskPool("t", N_PUB), y, star), "star blocks"
    cur, chain = base.copy(), [base]
    for _ in range(299):
        trial = cur ^ (rng.random(N_PUB) < k / N_PUB).astype(np.uint8)
        if (trial == y).mean() > (cur == y).mean():
            cur = trial
        chain.append(trial)
    assert 1 in _feed(TaskPool("t", N_PUB), y, chain), "chain of kept improvements"


def test_fresh_blocks_and_random_designs_are_flagged() -> None:
    y, rng = _labels(1), np.random.default_rng(1)
    base = _model(y, rng)
    perm, fresh = rng.permutation(N_PUB), [base]
    for j in range(100):
        b = np.zeros(N_PUB, np.uint8)
        b[perm[(j * 10) % N_PUB : (j * 10) % N_PUB + 10]] = 1
        fresh.append(base ^ b)
    assert "differential" in _feed(TaskPool("t", N_PUB), y, fresh)[1]
    rand = [rng.integers(0, 2, N_PUB).astype(np.uint8) for _ in range(40)]
    assert "random-vectors" in _feed(TaskPool("t", N_PUB), y, rand)[1]
    around = [base ^ (rng.random(N_PUB) < 0.3).astype(np.uint8) for _ in range(40)]  # the base never sent
    assert "design" in _feed(TaskPool("t", N_PUB), y, around)[1]


def test_public_gap_is_flagged() -> None:
    y, rng = _labels(2), np.random.default_rng(2)
    runs = [_model(y, rng, 0.9) for _ in range(3)]
    flags = _feed(TaskPool("t", N_PUB), y, runs, private_acc=[0.7, 0.7, 0.7])
    assert flags[1] == ["public-gap"]


def test_a_team_splitting_a_design_is_flagged_and_honest_members_are_not() -> None:
    y, rng = _labels(3), np.random.default_rng(3)
    honest = _honest_runs(y, 10, 6, rng)
    attack = [rng.integers(0, 2, N_PUB).astype(np.uint8) for _ in range(7 * 6)]  # 6 each: alone, too few
    for a in range(2, 9):
        alone = _feed(TaskPool("t", N_PUB), y, attack[a - 2 :: 7])
        assert a not in {k + 1 for k in alone} and not alone
    vectors = honest + attack
    agents = [1] * len(honest) + [2 + i % 7 for i in range(len(attack))]
    order = np.random.default_rng(4).permutation(len(vectors))
    flags = _feed(TaskPool("t", N_PUB), y, [vectors[i] for i in order], [agents[i] for i in order])
    assert set(flags) == set(range(2, 9)), flags
    assert all(any(s.startswith("team-") for s in sig) for sig in flags.values())


@pytest.mark.parametrize("seed", range(5))
def test_honest_methods_and_seeds_at_full_size_are_never_flagged(seed: int) -> None:
    y, rng = _labels(10 + seed), np.random.default_rng(10 + seed)
    runs = _honest_runs(y, 30, 10, rng)  # 300 submissions: a whole per-run budget
    agents = [1 + i % (1 + seed % 3) for i in range(len(runs))]
    assert _feed(TaskPool("t", N_PUB), y, runs, agents) == {}


def _tiny_runs(tiny_tasks: Path, task: str) -> list[list[int]]:
    import torch

    from aarlab.w2s.baselines import baseline_dir
    from aarlab.w2s.recipe import write_idea
    from aarlab.w2s.run_idea import run_idea

    torch.set_num_threads(1)
    rng = random.Random(0)
    recipes = [
        {
            "label_source": rng.choice(["weak_hard", "weak_soft", "strong_prior", "mix"]),
            "filter": rng.choice(["none", "weak_confidence", "agreement"]),
            "reweight": rng.choice(["none", "weak_confidence", "agreement"]),
            "loss": rng.choice(["ce", "aux_conf", "bootstrap", "gce"]),
        }
        for _ in range(6)
    ]
    data = tiny_tasks / task / "main" / "public"
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        ideas = [baseline_dir(b) for b in ("vanilla_w2s", "aux_confidence", "confident_only", "weak")]
        ideas += [write_idea(Path(tmp) / f"r{i}", r) for i, r in enumerate(recipes)]
        for i, idea in enumerate(ideas):
            for seed in range(3):
                out.append(run_idea(idea, data, Path(tmp) / f"out{i}-{seed}", seed=seed)["test"])
    return out


def test_honest_recipe_runs_on_the_tiny_task_are_never_flagged(tiny_tasks: Path) -> None:
    """Real runs: 10 ideas x 3 seeds on tiny math, whose models are near chance (the hardest case: honest
    variation there looks most like noise), in many orders, by one to three agents."""
    runs = np.asarray(_tiny_runs(tiny_tasks, "math"), dtype=np.uint8)
    prv = tiny_tasks / "math" / "main" / "private"
    y = np.asarray(json.loads((prv / "labels.json").read_text())["test"], dtype=np.uint8)
    mask = np.asarray(json.loads((prv / "test_public_mask.json").read_text()), dtype=bool)
    for trial in range(30):
        order = random.Random(trial).sample(range(len(runs)), len(runs))
        pool = TaskPool("math", int(mask.sum()), ProbingConfig())
        for j in order:
            pub, priv = runs[j][mask], runs[j][~mask]
            agent = 1 + j % (1 + trial % 3)
            verdicts = pool.add(
                agent,
                pub,
                float((pub == y[mask]).mean()),
                float((priv == y[~mask]).mean()),
                int((~mask).sum()),
            )
            assert not verdicts, (trial, [(v.agent_id, v.signatures, v.details) for v in verdicts])
