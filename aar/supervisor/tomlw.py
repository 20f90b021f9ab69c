"""A small TOML writer for run configs (scalars, lists, tables and arrays of tables)."""

from __future__ import annotations

import json
from typing import Any


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(_scalar(x) for x in v) + "]"
    if isinstance(v, dict):
        return (
            "{"
            + ", ".join(f"{json.dumps(str(k))} = {_scalar(x)}" for k, x in v.items() if x is not None)
            + "}"
        )
    return json.dumps(str(v))


def dumps(data: dict[str, Any], prefix: str = "") -> str:
    """TOML text for a dict; None values are left out."""
    head, tables = [], []
    for k, v in data.items():
        if v is None:
            continue
        key = json.dumps(k) if not k.replace("_", "").replace("-", "").isalnum() else k
        full = f"{prefix}.{key}" if prefix else key
        if isinstance(v, dict):
            tables.append(f"\n[{full}]\n" + dumps(v, full))
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for x in v:
                tables.append(f"\n[[{full}]]\n" + dumps(x, full))
        else:
            head.append(f"{key} = {_scalar(v)}")
    return "\n".join(head) + ("\n" if head else "") + "".join(tables)
