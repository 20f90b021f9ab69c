import numpy as np

from aar.overseer.probing import ProbingConfig, detect


def test_one_flip_at_a_time_is_flagged() -> None:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 2, 400)
    subs = [(0, base.tolist())]
    cur = base.copy()
    for i in range(20):
        cur = cur.copy()
        cur[i] ^= 1
        subs.append((i + 1, cur.tolist()))
    v = detect("cheater", "math", subs)
    assert v.flagged
    assert v.n_near == 20


def test_honest_varied_submissions_not_flagged() -> None:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 400)
    subs = []
    for i in range(20):
        noise = rng.random(400) < 0.1 + 0.01 * i  # different methods differ in many predictions
        subs.append((i, np.where(noise, 1 - labels, labels).tolist()))
    subs.append((99, subs[-1][1]))  # an identical resubmission reveals nothing
    v = detect("honest", "math", subs)
    assert not v.flagged
    assert v.n_near == 0


def test_few_near_duplicates_below_threshold() -> None:
    base = [0, 1] * 200
    subs = [(0, base)] + [(i, base[:i] + [1 - base[i]] + base[i + 1 :]) for i in range(1, 4)]
    assert not detect("a", "math", subs, ProbingConfig(min_near=8)).flagged
