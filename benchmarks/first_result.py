"""Time from `aar demo` to its first scored result, from an empty cache (the newcomer's first hour).

    python benchmarks/first_result.py [--size full|tiny] [--agents 9] [--minutes 20] [--keep-cache]
        [--stop-after-first] [--timeout 3600]

Starts `aar demo` with a fresh temporary AAR_CACHE in a temporary folder, and prints: when the main task
was ready (the demo's own line), when the server stored its first scored submission (read from the
run's database), and, without --stop-after-first, the whole demo's wall time. Load averages are printed
with each figure: other work on a shared machine stretches every one of them.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def first_submission(run_dir: Path) -> datetime | None:
    db = run_dir / "aar.db"
    if not db.exists():
        return None
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            row = conn.execute("SELECT min(created_at) FROM submissions WHERE pgr IS NOT NULL").fetchone()
    except sqlite3.Error:
        return None
    return datetime.fromisoformat(row[0]).replace(tzinfo=UTC) if row and row[0] else None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="full")
    ap.add_argument("--agents", type=int, default=9)
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--stop-after-first", action="store_true")
    ap.add_argument("--keep-cache", action="store_true")
    ap.add_argument("--timeout", type=float, default=3600.0)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="aar_first_"))
    cache = work / "cache"
    run_dir = work / "run"
    aar = str(Path(sys.executable).parent / "aar")
    cmd = [aar, "demo", "--size", args.size, "--agents", str(args.agents), "--minutes", str(args.minutes),
           "--run-dir", str(run_dir)]
    print(f"{' '.join(cmd)}  (AAR_CACHE={cache}; load {load()})", flush=True)
    t0 = time.time()
    # a background job of a non-interactive shell ignores SIGINT, and its children inherit that: undo it,
    # since SIGINT is how this script ends the demo (report written, everything it started stopped)
    proc = subprocess.Popen(cmd, cwd=work, env={**os.environ, "AAR_CACHE": str(cache)}, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.default_int_handler))
    ready: list[float] = []

    def read() -> None:
        assert proc.stdout is not None
        with open(work / "demo.log", "w") as log:
            for line in proc.stdout:
                log.write(line)
                log.flush()
                if re.search(r" ready after \d+s; starting the team", line) and not ready:
                    ready.append(time.time() - t0)
                    print(f"main task ready, team starting: {ready[0]:.0f} s (load {load()})", flush=True)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    first = None
    while proc.poll() is None and time.time() - t0 < args.timeout:
        if first is None and (at := first_submission(run_dir)) is not None:
            first = at.timestamp() - t0
            print(f"first scored result: {first:.0f} s after the start (load {load()})", flush=True)
            if args.stop_after_first:
                break
        time.sleep(2.0)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)  # the demo writes its report and stops everything it started
        try:
            proc.wait(600)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    reader.join(5)
    took = time.time() - t0
    print(f"demo exit {proc.returncode} after {took:.0f} s (load {load()}); log {work / 'demo.log'}")
    if first is None:
        print("no scored result")
    if not args.keep_cache:
        import shutil

        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
