"""Fixtures of the overseer tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from small_testbed import build_small  # noqa: E402


@pytest.fixture(scope="session")
def small_cache() -> Path:
    """The prepared `small` testbed (math), built once per machine (see small_testbed.py)."""
    return build_small()
