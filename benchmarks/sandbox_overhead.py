"""Per-command overhead of the bubblewrap sandbox vs a plain subprocess (`true` and `python -c pass`).

Usage: python benchmarks/sandbox_overhead.py [--n 30]. Prints median and p90 wall milliseconds per command.
"bwrap only" is the bare bwrap launch, without the wrapper (cgroup, rlimits, setpriv, disk watcher and
settle walks, capture). "research view" is an agent's sandbox as `aar.sandbox.research` opens it: the staged
data copied in (1.5 MB here), two model mounts, the HF cache, the hard quota where available.
"""

from __future__ import annotations

import argparse
import json
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


def bare(sb) -> None:  # noqa: ANN001
    if hasattr(sb, "command_line"):  # options through a memfd (--args FD)
        from aar.sandbox.bwrap import close_fds

        argv, fds = sb.command_line("true")
        try:
            subprocess.run(argv, check=True, pass_fds=fds)
        finally:
            close_fds(fds)
    else:  # before: options in the argv
        subprocess.run(sb.argv("true", sb.base_env(None)), check=True)


def research_sandbox(tmp: Path):  # noqa: ANN201
    """An agent sandbox on a task-like data dir (three split files, three weak-label files, two models)."""
    try:
        from aar.sandbox.research import open_agent_sandbox
    except ImportError:  # before the research helpers moved into aar.sandbox
        from aar.agents.research_sandbox import open_agent_sandbox

    public = tmp / "task" / "main" / "public"
    (public / "weak").mkdir(parents=True)
    models = {r: tmp / "zoo" / r for r in ("weak", "strong")}
    for d in models.values():
        d.mkdir(parents=True)
        (d / "config.json").write_text("{}")
    n = {"train_label": 1500, "train_unlabel": 6000, "test": 2000}
    meta = {"task": "t", "size": "full", "n": n, "seeds": [0, 1, 2],
            "models": {r: str(d) for r, d in models.items()}}
    (public / "meta.json").write_text(json.dumps(meta))
    for split, k in n.items():
        row = "a verification text of some length " * 4
        lines = (json.dumps({"id": i, "text": row}) + "\n" for i in range(k))
        (public / f"{split}.jsonl").write_text("".join(lines))
    for s in (0, 1, 2):
        (public / "weak" / f"seed{s}.json").write_text(json.dumps({"seed": s, "train_unlabel": [0.5] * 6000}))
    box, _ = open_agent_sandbox("bwrap", tmp / "agents" / "a", public, socket=None, limits=Limits())
    return box


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
        rows.append(
            (
                "true, bwrap only",
                lambda: subprocess.run(["bash", "-c", "true"], check=True),
                lambda: bare(sb),
            )
        )
        agent = research_sandbox(Path(tmp))
        rows.append(("true, research view", lambda: subprocess.run(["bash", "-c", "true"], check=True),
                     lambda: agent.run("true")))
        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        print(
            f"{'command':20} {'plain ms':>10} {'bwrap ms':>10} {'overhead ms':>12} {'p90 bwrap':>10}  (n={n})"
        )
        for name, plain, boxed in rows:
            p, b = timed(plain, n), timed(boxed, n)
            pm, bm = statistics.median(p), statistics.median(b)
            p90 = statistics.quantiles(b, n=10)[-1]
            print(f"{name:20} {pm:10.1f} {bm:10.1f} {bm - pm:12.1f} {p90:10.1f}")
        agent.close()


if __name__ == "__main__":
    main()
