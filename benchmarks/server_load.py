"""Load benchmark for the research server: evaluations/s and p50/p99 latency at 1, 10, 100 concurrent clients.

Each client is the real `AarClient` (httpx) posting 2,000-example prediction vectors over loopback TCP
(or the Unix socket with --uds) to a real `aar serve` subprocess on SQLite (WAL). Clients run as threads
spread over a few worker processes so the client side is not limited to one core. Prints one row per level.

    python benchmarks/server_load.py [--seconds 5] [--levels 1,10,100] [--uds]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

N_TEST = 2000
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def write_task(root: Path, name: str = "bench") -> None:
    rng = random.Random(0)
    pub, prv = root / name / "main" / "public", root / name / "main" / "private"
    pub.mkdir(parents=True)
    prv.mkdir(parents=True)
    meta = {
        "task": name,
        "draw": "main",
        "size": "bench",
        "description": "load benchmark",
        "n": {"train_label": 0, "train_unlabel": 0, "test": N_TEST},
        "models": {},
        "seeds": [0],
        "reference_mode": "probe",
        "baselines": {"probe": {"weak_acc": 0.6, "strong_acc": 0.9}},
    }
    (pub / "meta.json").write_text(json.dumps(meta))
    (prv / "labels.json").write_text(
        json.dumps({"train_unlabel": [], "test": [rng.randint(0, 1) for _ in range(N_TEST)]})
    )
    (prv / "test_public_mask.json").write_text(json.dumps([rng.random() < 0.5 for _ in range(N_TEST)]))


def start_server(run_dir: Path, tasks: Path) -> tuple[subprocess.Popen, dict]:
    log = open(run_dir / "server.log", "wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aar.server",
            "--run-dir",
            str(run_dir),
            "--tasks-dir",
            str(tasks),
            "--port",
            "0",
            "--budget",
            "100000000",
        ],
        stdout=log,
        stderr=log,
        cwd=REPO,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
    )
    for _ in range(600):
        info_path = run_dir / "server.json"
        if info_path.exists() and (run_dir / "admin_token").exists():
            info = json.loads(info_path.read_text())
            if info["pid"] == proc.pid:
                time.sleep(0.3)
                return proc, info
        if proc.poll() is not None:
            raise RuntimeError((run_dir / "server.log").read_text())
        time.sleep(0.1)
    raise RuntimeError("server did not start")


def worker(address: dict, tokens: list[str], seconds: float, ready: mp.Barrier, out: mp.Queue) -> None:
    """Open every client and send one warm-up evaluation, wait for all workers, then run for `seconds`."""
    from aarlab.client import AarClient

    rng = random.Random(os.getpid())
    clients = [
        AarClient(uds=address["uds"], token=tok)
        if address.get("use_uds")
        else AarClient(address["url"], token=tok)
        for tok in tokens
    ]
    preds = [[rng.randint(0, 1) for _ in range(N_TEST)] for _ in tokens]
    for c, p in zip(clients, preds, strict=True):
        c.evaluate("bench", p, idea="warmup")
    ready.wait()
    stop_at = time.monotonic() + seconds
    lat: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def run(client: AarClient, p: list[int]) -> None:
        mine: list[float] = []
        bad = 0
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            try:
                client.evaluate("bench", p, idea="load")
            except Exception:  # noqa: BLE001 - counted and reported
                bad += 1
                continue
            mine.append(time.perf_counter() - t0)
        with lock:
            lat.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=run, args=cp) for cp in zip(clients, preds, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for c in clients:
        c.close()
    out.put((lat, errors[0]))


def cpu_seconds(pid: int) -> float:
    """User+system CPU time of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def level(address: dict, tokens: list[str], seconds: float) -> dict:
    n_proc = min(len(tokens), 4)
    groups = [tokens[i::n_proc] for i in range(n_proc)]
    q: mp.Queue = mp.Queue()
    ready = mp.Barrier(n_proc + 1)  # the workers, and this process to start the CPU clock
    procs = [mp.Process(target=worker, args=(address, g, seconds, ready, q)) for g in groups]
    for p in procs:
        p.start()
    ready.wait()
    cpu0 = cpu_seconds(address["pid"])
    lat: list[float] = []
    errors = 0
    for _ in procs:
        part, err = q.get()
        lat.extend(part)
        errors += err
    cpu = cpu_seconds(address["pid"]) - cpu0
    for p in procs:
        p.join()
    lat.sort()
    q99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))] if lat else float("nan")
    return {
        "clients": len(tokens),
        "evals": len(lat),
        "evals_per_s": len(lat) / seconds,
        "p50_ms": statistics.median(lat) * 1000 if lat else float("nan"),
        "p99_ms": q99 * 1000,
        "errors": errors,
        "server_cpu_ms": cpu * 1000 / max(len(lat), 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--levels", default="1,10,100")
    ap.add_argument("--uds", action="store_true", help="use the Unix socket instead of TCP loopback")
    args = ap.parse_args()
    from aarlab.client import AarClient

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_task(root / "tasks")
        (root / "run").mkdir()
        proc, info = start_server(root / "run", root / "tasks")
        try:
            admin = AarClient(info["url"], token=(root / "run" / "admin_token").read_text().strip())
            levels = [int(x) for x in args.levels.split(",")]
            tokens = [admin.create_agent(f"bench-{i}")["token"] for i in range(max(levels))]
            address = {**info, "use_uds": args.uds}
            print(
                f"server pid {proc.pid}; {os.cpu_count()} CPUs visible; {N_TEST}-example payloads; "
                f"{'unix socket' if args.uds else 'TCP loopback'}; {args.seconds:.0f} s per level"
            )
            head = ["clients", "evals", "evals/s", "p50 ms", "p99 ms", "errors", "srv CPU ms/eval"]
            print(" ".join(f"{h:>{w}}" for h, w in zip(head, (8, 7, 9, 8, 8, 7, 16), strict=True)))
            for n in levels:
                r = level(address, tokens[:n], args.seconds)
                print(
                    f"{r['clients']:>8} {r['evals']:>7} {r['evals_per_s']:>9.1f} {r['p50_ms']:>8.2f} "
                    f"{r['p99_ms']:>8.2f} {r['errors']:>7} {r['server_cpu_ms']:>16.3f}",
                    flush=True,
                )
            stored = len(admin.submissions(limit=10_000, agent="bench-0"))
            print(f"load average now: {os.getloadavg()[0]:.1f} (other processes share these CPUs)")
            print(f"check: bench-0 has {stored} stored submissions (capped at 10000 in the listing)")
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
