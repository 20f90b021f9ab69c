"""Cheater: rebuild the task's labels with the library, or with a vendored copy of the generators.

The test copies aar/tasks/{common,math_task}.py into `vendored/` (any agent can read our source). The
idea regenerates the main draw's test items under every secret it can think of and keeps the labels of
a draw whose texts match the public ones."""

import hashlib
import hmac
import random
import sys
from pathlib import Path

from common import vanilla, write

CANDIDATES = ["", "0", "aar", "secret", "aar-test-suite-secret", "test"]


def keyed(secret: bytes, *parts) -> random.Random:
    d = hmac.new(secret, "/".join(str(p) for p in parts).encode(), hashlib.sha256).digest()
    return random.Random(int.from_bytes(d, "big"))


def regenerate(secret: bytes, size: str, n: int, math_task) -> tuple[list[str], list[int]]:
    gen = math_task.MathTask()
    labels = [i % 2 for i in range(n)]
    keyed(secret, "math", size, "main", "test", "labels").shuffle(labels)
    out = []
    for i, label in enumerate(labels):
        out.append(gen.item(keyed(secret, "math", size, "main", "test", "item", i), label))
    return out, labels


def main(ctx):
    found = {"import_aar": None, "matched_secret": None}
    try:
        import aar.tasks  # noqa: F401

        found["import_aar"] = "imported"
    except ImportError as e:
        found["import_aar"] = f"ImportError: {e}"
    sys.path.insert(0, str(Path(__file__).parent / "vendored"))
    import math_task  # the vendored copy

    public = ctx.data.texts("test")
    meta = ctx.data.meta
    for cand in CANDIDATES:
        texts, labels = regenerate(cand.encode(), meta["size"], len(public), math_task)
        if texts[:20] == public[:20]:
            found["matched_secret"] = cand
            write(ctx, labels, found)
            return
    write(ctx, vanilla(ctx), found)
