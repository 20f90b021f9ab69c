"""Compute queue overhead: time to get and release an uncontended slot, and the grant latency under
contention (one process releases, the next waiting process starts) across real processes.

    python benchmarks/compute_queue.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aar.compute import ComputeQueue

WORKER = """
import sys, time
from aar.compute import ComputeQueue
q = ComputeQueue(sys.argv[1], 1, poll=0.01)
for _ in range(int(sys.argv[2])):
    with q.slot(sys.argv[3], "job"):
        print(f"{time.time()} start", flush=True)
        time.sleep(0.02)
        print(f"{time.time()} end", flush=True)
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        q = ComputeQueue(Path(d) / "solo", 1)
        times = []
        for _ in range(200):
            t0 = time.perf_counter()
            with q.slot("me", "x"):
                pass
            times.append(time.perf_counter() - t0)
        print(
            f"uncontended get+release: median {1e3 * statistics.median(times):.2f} ms, "
            f"p95 {1e3 * sorted(times)[189]:.2f} ms (200 rounds)"
        )

        root = Path(d) / "shared"
        ComputeQueue(root, 1)
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", WORKER, str(root), "20", f"owner{i}"],
                stdout=subprocess.PIPE,
                text=True,
            )
            for i in range(4)
        ]
        events = []
        for p in procs:
            out, _ = p.communicate()
            events += [(float(t), kind) for t, kind in (line.split() for line in out.splitlines())]
        events.sort()
        gaps = [
            b[0] - a[0] for a, b in zip(events, events[1:], strict=False) if a[1] == "end" and b[1] == "start"
        ]
        overlap = max(sum(1 if k == "start" else -1 for _, k in events[: i + 1]) for i in range(len(events)))
        print(
            f"handover between processes (4 owners x 20 jobs, 1 slot, poll 10 ms): median "
            f"{1e3 * statistics.median(gaps):.1f} ms, "
            f"p95 {1e3 * sorted(gaps)[int(0.95 * len(gaps))]:.1f} ms; "
            f"max concurrent holders {overlap}"
        )


if __name__ == "__main__":
    main()
