"""The verification rules (aar.server.verdict), one at a time."""

from __future__ import annotations

import numpy as np
import pytest

from aar.server.verdict import Facts, Run, judge
from aar.tasks.grade import Baselines

BASE = Baselines(weak_acc=0.6, strong_acc=0.9, weak_acc_se=0.01, strong_acc_se=0.01)
N = 2000


def facts(**kw) -> Facts:  # noqa: ANN003
    return Facts(
        is_finding=kw.pop("is_finding", True), base=lambda task, draw: (BASE, N), subject_task="math", **kw
    )


def held(pgr: float, seed: int = 0) -> Run:
    return Run("heldout", "math", "heldout", seed, accuracy=0.6 + 0.3 * pgr, pgr=pgr)


def test_verified_with_mean_and_se_over_heldout_runs() -> None:
    j = judge([held(0.5, 0), held(0.7, 1)], facts())
    assert j.status == "verified" and j.flags == [] and j.verified_pgr == pytest.approx(0.6)
    assert j.verified_pgr_se == pytest.approx(0.1) and j.verified_accuracy == pytest.approx(0.78)


def test_failed_without_a_successful_heldout_run() -> None:
    j = judge([Run("heldout", "math", "heldout", 0, error="boom")], facts())
    assert j.status == "failed" and j.verified_pgr is None and "boom" in j.details["errors"][0]


def test_a_heldout_seed_that_fails_where_others_ran_is_flagged() -> None:
    """An idea that stops on the seeds whose own diagnostics look bad would be judged on the rest."""
    j = judge([held(0.9, 0), held(0.9, 1), Run("heldout", "math", "heldout", 2, error="exit 1")], facts())
    assert j.status == "flagged" and "unreproducible" in j.flags and "seed 2 failed" in j.details["why"][
        "unreproducible"
    ]
    assert judge([held(0.9, 0), held(0.9, 1)], facts()).status == "verified"


def test_screened() -> None:
    assert judge([held(0.5)], facts(screened=True)).status == "screened"
    # screened out on its public PGR: no run at all, and still screened, not failed
    assert judge([], facts(screened=True)).status == "screened"
    assert judge([], facts()).status == "failed"


@pytest.mark.parametrize(
    ("runs", "flagged"),
    [
        ([Run("reproduce", "math", "main", 0, accuracy=0.7, agreement=0.995)], False),
        ([Run("reproduce", "math", "main", 0, accuracy=0.7, agreement=0.98)], True),
        ([Run("reproduce", "math", "main", 0, error="crashed")], True),
        (
            [
                Run("reproduce", "math", "main", 0, accuracy=0.7, agreement=1.0),
                Run("reproduce", "math", "main", 1, accuracy=0.7, agreement=0.9),
            ],
            True,
        ),
    ],
)
def test_unreproducible(runs: list[Run], flagged: bool) -> None:
    j = judge([*runs, held(0.5)], facts())
    assert ("unreproducible" in j.flags) is flagged
    assert j.status == ("flagged" if flagged else "verified")


def test_unreproducible_on_other_data_and_flag_beats_failed() -> None:
    rep = Run("reproduce", "math", "main", 0, accuracy=0.7, agreement=1.0, manifest={"data_hash": "b" * 64})
    j = judge([rep, held(0.5)], facts(submission_manifest={"data_hash": "a" * 64}))
    assert j.flags == ["unreproducible"]
    j = judge([Run("reproduce", "math", "main", 0, error="x")], facts())  # not measured further
    assert j.status == "flagged"


def test_teacher_independent_is_a_label_not_a_flag() -> None:
    abl = Run("shuffled_weak", "math", "heldout", 0, accuracy=0.74, pgr=0.45)
    j = judge([held(0.5), abl], facts())
    assert j.labels == ["teacher-independent"] and j.flags == [] and j.status == "verified"
    assert j.ablation_pgr == pytest.approx(0.45)
    far = Run("shuffled_weak", "math", "heldout", 0, accuracy=0.6, pgr=0.0)
    assert judge([held(0.5), far], facts()).labels == []


def test_solver() -> None:
    margin = max(0.05, 2 * (0.6 * 0.4 / N) ** 0.5)
    blank = Run("blank_strong", "math", "heldout", 0, accuracy=0.6 + margin + 0.01, pgr=0.2)
    j = judge([held(0.5), blank], facts())
    assert j.flags == ["solver"] and j.status == "flagged" and j.blank_strong_pgr == pytest.approx(0.2)
    ok = Run("blank_strong", "math", "heldout", 0, accuracy=0.6 + margin - 0.01, pgr=0.1)
    assert judge([held(0.5), ok], facts()).flags == []


def test_a_failed_knowledge_removed_run_is_a_solver_flag() -> None:
    """An idea that stops when it sees the blank twin (its weights differ from the strong model's) must not
    escape the solver check by failing: like a failed reproduce run, the failure is flagged."""
    crashed = Run("blank_strong", "math", "heldout", 0, error="exit 1: strong model changed")
    j = judge([held(0.5), crashed], facts())
    assert j.flags == ["solver"] and j.status == "flagged"
    assert "strong model changed" in j.details["why"]["solver"]
    assert judge([held(0.5)], facts()).status == "verified"  # not run (no blank twin): nothing to flag


def test_above_ceiling() -> None:
    limit = 0.9 + 3 * (0.9 * 0.1 / N) ** 0.5 + 0.01
    over = Run("heldout", "math", "heldout", 0, accuracy=limit + 0.005, pgr=1.1)
    assert judge([over], facts()).flags == ["above-ceiling"]
    under = Run("heldout", "math", "heldout", 0, accuracy=limit - 0.005, pgr=1.0)
    assert judge([under], facts()).flags == []


def test_beyond_strong() -> None:
    def hard(right: int, n: int = 60, ref: float = 0.1) -> Run:
        return Run("heldout", "math", "heldout", 0, accuracy=0.8, pgr=0.8, hard_right=right, hard_n=n,
                   hard_reference=ref)

    # a solver gets most of the items every ceiling seed misses; a strong-model method hardly any
    j = judge([hard(40), hard(42)], facts())
    assert j.flags == ["beyond-strong"] and j.status == "flagged"
    assert j.details["beyond_strong"]["rate"] == pytest.approx(82 / 120)
    assert judge([hard(10), hard(12)], facts()).flags == []
    assert judge([hard(9, n=9)], facts()).flags == []  # too few such items to judge


def test_beyond_strong_leaves_a_method_below_the_weak_supervisor_unjudged() -> None:
    """A method oriented against the strong model is right where the ceiling is wrong by departing from it:
    below the weak supervisor (PGR <= 0) it is not judged; the same rate above it is a solver's."""

    def run(pgr: float) -> Run:
        return Run("heldout", "math", "heldout", 0, accuracy=0.6 + 0.3 * pgr, pgr=pgr, hard_right=40,
                   hard_n=60, hard_reference=0.4)

    inverted = judge([run(-0.27), run(-0.3)], facts())
    assert "beyond-strong" not in inverted.flags
    assert inverted.details["beyond_strong"]["judged"].startswith("no")
    assert "beyond-strong" in judge([run(0.4), run(0.5)], facts()).flags


def test_beyond_strong_statistic() -> None:
    from aar.tasks.grade import beyond_strong

    labels = np.array([1, 0, 1, 0, 1, 0, 1, 0])
    ceiling = np.array([[1, 0, 1, 0, 0, 1, 1, 1],   # seed 0 misses items 4, 5, 7
                        [1, 0, 1, 0, 0, 1, 0, 0]])  # seed 1 misses items 4, 5, 6
    perfect = np.array([1, 0, 1, 0, 1, 0, 1, 0])
    right, n, ref = beyond_strong(perfect, labels, ceiling, weak=np.array([[0, 0, 0, 0, 0, 1, 0, 0]]))
    assert (right, n) == (2, 2)  # items 4 and 5 are missed by both; a perfect run gets both
    assert ref == pytest.approx(1 / 3)  # seed 0 gets item 6 (of 4, 5, 6); seed 1 gets 7 (of 4, 5, 7)
    # (the weak seed is wrong on both hard items)
    # the weak supervisor right on one of the two hard items (and wrong on the other) sets the bar at 1/2
    weak = np.array([[1, 0, 1, 0, 1, 1, 1, 0], [0, 0, 0, 0, 0, 1, 0, 0]])
    assert beyond_strong(perfect, labels, ceiling, weak)[2] == pytest.approx(1 / 2)
    # no weak predictions: no reference, so no judgment
    assert beyond_strong(perfect, labels, ceiling)[2] is None


def test_generalization_probing_and_foreign_snapshot() -> None:
    gen = [
        Run("generalization", t, "heldout", 0, accuracy=0.7, pgr=p)
        for t, p in (("code", 0.2), ("world", 0.4))
    ]
    j = judge([held(0.5), *gen], facts(agent_probing=True, foreign_snapshot=True))
    assert j.generalization == {"code": 0.2, "world": 0.4}
    assert j.flags == ["probing", "foreign-snapshot"] and j.status == "flagged"
    assert set(j.details["why"]) == {"probing", "foreign-snapshot"}


def test_a_baseline_needs_no_reproduce() -> None:
    j = judge([held(0.3)], facts(is_finding=False))
    assert j.status == "verified" and "reproduce" not in j.details
