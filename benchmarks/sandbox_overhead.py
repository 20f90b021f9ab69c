"""Per-command overhead of the bubblewrap sandbox vs a plain subprocess (`true` and `python -c pass`).

Usage: python benchmarks/sandbox_overhead.py [--n 30]. Prints median and p90 wall milliseconds per command.
"bwrap only" is the bare bwrap launch, without the wrapper (cgroup, rlimits, disk watcher, capture).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from aar.sandbox import Limits, SandboxSpec, make_sandbox


def timed(fn: Callable[[], object], n: int) -> list[float]:
    fn()  # warm the page cache
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=30)
    n = ap.parse_args().n
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp) / "ws"
        ws.mkdir()
        (ws / "idea").mkdir()
        for i in range(50):  # a typical small workspace (the disk watcher walks it)
            (ws / "idea" / f"f{i}.py").write_text("x = 1\n" * 20)
        sb = make_sandbox("bwrap", SandboxSpec(ws, [], None, Limits()))
        py = sys.executable
        rows = [
            ("true", lambda: subprocess.run(["bash", "-c", "true"], check=True), lambda: sb.run("true")),
            (
                "python -c pass",
                lambda: subprocess.run([py, "-c", "pass"], check=True),
                lambda: sb.run(f"{py} -c pass"),
            ),
        ]
        bare = sb.argv("true", sb.base_env(None))  # type: ignore[attr-defined]
        rows.append(
            (
                "true, bwrap only",
                lambda: subprocess.run(["bash", "-c", "true"], check=True),
                lambda: subprocess.run(bare, check=True),
            )
        )
        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        print(
            f"{'command':16} {'plain ms':>10} {'bwrap ms':>10} {'overhead ms':>12} {'p90 bwrap':>10}  (n={n})"
        )
        for name, plain, boxed in rows:
            p, b = timed(plain, n), timed(boxed, n)
            pm, bm = statistics.median(p), statistics.median(b)
            p90 = statistics.quantiles(b, n=10)[-1]
            print(f"{name:16} {pm:10.1f} {bm:10.1f} {bm - pm:12.1f} {p90:10.1f}")


if __name__ == "__main__":
    main()
