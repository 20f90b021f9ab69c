"""Accuracy, PGR and mean/standard-error arithmetic."""

from __future__ import annotations

import math

import pytest

from aar.tasks.grade import pgr
from aarlab.w2s.metrics import accuracy, mean_se


def test_pgr_arithmetic() -> None:
    assert pgr(0.7, 0.6, 0.8) == pytest.approx(0.5)
    assert pgr(0.6, 0.6, 0.8) == pytest.approx(0.0)
    assert pgr(0.8, 0.6, 0.8) == pytest.approx(1.0)
    assert pgr(0.5, 0.6, 0.8) == pytest.approx(-0.5)
    assert pgr(0.9, 0.6, 0.8) == pytest.approx(1.5)
    assert pgr(0.7, 0.6, 0.6) is None  # no gap: undefined


def test_accuracy() -> None:
    assert accuracy([1, 0, 1, 1], [1, 1, 1, 0]) == 0.5
    with pytest.raises(ValueError):
        accuracy([1, 0], [1, 0, 1])
    with pytest.raises(ValueError):
        accuracy([], [])


def test_mean_se() -> None:
    m, se = mean_se([1.0, 2.0, 3.0])
    assert m == pytest.approx(2.0)
    assert se == pytest.approx(1.0 / math.sqrt(3))
    assert mean_se([0.4]) == (0.4, 0.0)
    with pytest.raises(ValueError):
        mean_se([])
