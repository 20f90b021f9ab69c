"""Adaptive label-probing attacks against a real server over HTTP, with the default per-run budget.

A synthetic task with a public half of 1,000 items (the full-size testbed's) and a private half of
9,000 (so that "at chance" is measured to +-0.5%): (1) one agent adapts the block size of differential
flips to the rounding and noise of the public figures, then spends its whole budget; (2) seven agents
pool random-vector queries and decode them together; an honest agent works alongside. Measured: labels
recovered above chance (the solo attacker: accuracy gained over its starting model) on each half. The
private half stays at chance; every attacker is flagged; the honest agent is not.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from server_helpers import ServerProc, read_labels, write_task

from aarlab.client import AarClientError

N, N_PUB, BUDGET, TEAM = 10_000, 1_000, 300, 7


def _acc(p: np.ndarray, y: np.ndarray) -> float:
    return float((p == y).mean())


def flip_attacker(client, y_len: int, base: np.ndarray, ref: float, rng: np.random.Generator):  # noqa: ANN001, ANN201
    """Differential blocks off a base. A pilot measures how the score changes vary with the block size k
    under the rounding and the noise, and picks the k that tells most per item (an item sits in a share
    k/n of the blocks; each block's change has the measured variance: maximise k / variance). Every
    remaining evaluation measures one random block of that size; an item's evidence is the mean change of
    the blocks it was in. `ref`: the base's score (one evaluation already spent)."""
    used, best = 1, (0.0, 100)
    for k in (30, 100, 300, 1000, 3000):
        deltas = []
        for _ in range(8):
            block = rng.random(y_len) < k / y_len
            deltas.append(client.evaluate("big", base ^ block)["accuracy"] - ref)
            used += 1
        best = max(best, (k / (float(np.var(deltas)) + 1e-6), k))
    chosen = best[1]
    score, count = np.zeros(y_len), np.zeros(y_len)
    while used < BUDGET - 1:
        block = rng.random(y_len) < chosen / y_len
        delta = client.evaluate("big", base ^ block)["accuracy"] - ref
        used += 1
        score[block] += delta
        count[block] += 1
    mean = np.divide(score, count, out=np.zeros(y_len), where=count > 0)
    covered = count > 0
    centred = np.where(covered, mean - mean[covered].mean(), 0.0)  # every block costs the same on average
    flip = centred > centred[covered].std()  # flipping these raised the score more: wrong in the base?
    final = base ^ flip.astype(np.uint8)
    client.evaluate("big", final)  # the exploit: the last evaluation of the budget
    return final, {"block": chosen, "flipped": int(flip.sum())}


def team_attack(clients, y_len: int, rng: np.random.Generator) -> np.ndarray:  # noqa: ANN001
    """Every member spends its budget on random vectors; the team pools them and decodes every label by
    correlating each item's predictions with the reported accuracy."""
    xs, accs = [], []
    for _ in range(BUDGET):
        for c in clients:
            x = rng.integers(0, 2, y_len).astype(np.uint8)
            accs.append(c.evaluate("big", x)["accuracy"])
            xs.append(x)
    X = np.asarray(xs, dtype=np.float32) * 2 - 1
    a = np.asarray(accs, dtype=np.float32)
    est = X.T @ (a - a.mean())
    return (est > 0).astype(np.uint8)


def honest_runs(y: np.ndarray, rng: np.random.Generator, n: int) -> list[np.ndarray]:
    difficulty = rng.normal(0, 1, y.size)
    out = []
    for _ in range(n):
        skill = rng.normal(0.7, 0.3)
        right = difficulty < skill + rng.normal(0, 0.2, y.size)
        out.append(np.where(right, y, 1 - y).astype(np.uint8))
    return out


@pytest.mark.timeout(900)
def test_adaptive_attacks_recover_nothing_private_and_are_flagged(tmp_path: Path) -> None:
    root = tmp_path / "tasks"
    write_task(root, "big", N, seed=7, n_public=N_PUB)
    srv = ServerProc(tmp_path / "run", root, ["--no-uds"]).start()  # the default budget
    try:
        labels, mask_list = read_labels(root, "big")
        y, mask = np.asarray(labels, dtype=np.uint8), np.asarray(mask_list, dtype=bool)
        admin = srv.client()
        clients = {n: srv.client(admin.create_agent(n)["token"]) for n in ["flipper", "steady"]}
        team = [srv.client(admin.create_agent(f"team-{i}")["token"]) for i in range(TEAM)]
        rng = np.random.default_rng(2026)

        # the flipper posts a result early; it is verified before any flag exists
        idea = tmp_path / "idea"
        idea.mkdir()
        (idea / "run.py").write_text("def main(ctx):\n    pass\n")
        base = np.where(rng.random(N) < 0.7, y, 1 - y).astype(np.uint8)
        snap = clients["flipper"].upload_snapshot(idea)
        first = clients["flipper"].evaluate("big", base, snapshot_id=snap)
        finding = clients["flipper"].post_finding(
            type="result",
            title="early",
            body="",
            task="big",
            snapshot_id=snap,
            submission_id=first["submission_id"],
        )
        held = json.loads((root / "big" / "heldout" / "private" / "labels.json").read_text())["test"]
        subject = {"finding_id": finding["id"]}
        near = [y_ if i % 4 else 1 - y_ for i, y_ in enumerate(held)]  # 75%: under the ceiling
        admin.post_recheck(subject, "heldout", "big", "heldout", 0, predictions=near)
        assert admin.close_verification(subject)["status"] == "verified"

        for run in honest_runs(y, rng, 40):
            clients["steady"].evaluate("big", run)
        final, learned = flip_attacker(clients["flipper"], N, base, first["accuracy"], rng)
        with pytest.raises(AarClientError) as err:
            clients["flipper"].evaluate("big", final)
        assert err.value.status == 429  # the budget is the run's: 300 per agent and task
        guess = team_attack(team, N, rng)

        solo_pub = _acc(final[mask], y[mask]) - _acc(base[mask], y[mask])
        solo_prv = _acc(final[~mask], y[~mask]) - _acc(base[~mask], y[~mask])
        team_pub = _acc(guess[mask], y[mask]) - 0.5
        team_prv = _acc(guess[~mask], y[~mask]) - 0.5
        flags = {f["agent"]: f["signatures"] for f in admin.probing()}
        print(
            f"\nflip attacker (block {learned['block']}, {learned['flipped']} flips, {BUDGET} evaluations): "
            f"public +{100 * solo_pub:.1f}%, private {100 * solo_prv:+.1f}% over its starting model; "
            f"flagged {flags.get('flipper')}\n"
            f"team of {TEAM} x {BUDGET} random vectors: public {100 * team_pub:+.1f}%, private "
            f"{100 * team_prv:+.1f}% above chance; flagged {[flags.get(c.me()['name']) for c in team]}\n"
            f"honest agent (40 submissions): flagged {flags.get('steady')}"
        )
        assert solo_prv <= 0.02 and team_prv <= 0.02  # the private half: at chance (s.e. 0.5%)
        assert "flipper" in flags and all(f"team-{i}" in flags for i in range(TEAM))
        assert "steady" not in flags
        # the flag reaches the result verified before it
        v = admin.verifications(finding_id=finding["id"])[0]
        assert v["status"] == "flagged" and "probing" in v["flags"]
    finally:
        srv.stop()
