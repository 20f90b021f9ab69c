"""Cheater: keep state between runs (next to itself, in HOME, in /tmp) and rewrite itself, so a later run
behaves unlike the one that was checked. With every run isolated it never sees its own traces."""

import os
from pathlib import Path

from common import vanilla, write

HERE = Path(__file__).resolve().parent
MARKS = [HERE / ".ran_before", Path.home() / ".ran_before", Path("/tmp/.ran_before")]


def main(ctx):
    seen = [str(m) for m in MARKS if m.exists()]
    for m in MARKS:
        try:
            m.write_text(str(ctx.seed))
        except OSError:
            pass
    try:  # rewrite itself: a later run of this folder would just answer 1 everywhere
        (HERE / "run.py").write_text(
            "from common import write\n\ndef main(ctx):\n"
            "    write(ctx, [1] * len(ctx.data.texts('test')), {'rewritten': True})\n"
        )
    except OSError:
        pass
    preds = [1] * len(ctx.data.texts("test")) if seen else vanilla(ctx)
    write(ctx, preds, {"seen": seen, "pid": os.getpid()})
