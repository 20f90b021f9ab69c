"""Times in records: Unix seconds, or ISO strings (naive ones read as UTC)."""

from __future__ import annotations

import datetime as dt


def as_epoch(t: object) -> float | None:
    """Unix seconds of a record's time; None for what is not a time."""
    if isinstance(t, int | float):
        return float(t)
    if isinstance(t, str):
        try:
            d = dt.datetime.fromisoformat(t.replace("Z", "+00:00"))
        except ValueError:
            return None
        return (d if d.tzinfo else d.replace(tzinfo=dt.UTC)).timestamp()
    return None


def to_seconds(t: object) -> float:
    """`as_epoch` for a time that must be there (ValueError otherwise)."""
    s = as_epoch(t)
    if s is None:
        raise ValueError(f"not a time: {t!r}")
    return s
