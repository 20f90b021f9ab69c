"""Start-up time of the command line: `aar --help` and every sub-command's `--help`.

    python benchmarks/cli_startup.py [--runs 7] [--src OTHER_CHECKOUT]

Each command runs `--runs` times as a fresh process; the median wall time and CPU time (user + sys of the
child) are printed, with the load average, since other work on a shared machine stretches wall time.
`--src` also times another checkout of aar (e.g. the main branch before a change) in the same run, so
the two can be compared as a ratio measured side by side.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = [[], ["zoo", "build"], ["w2s", "prepare"], ["w2s", "baselines"], ["w2s", "import-aar"], ["serve"],
            ["mcp"], ["sandbox", "check"], ["run"], ["demo"], ["report"], ["resume"]]


def _argv(src: Path | None, cmd: list[str]) -> list[str]:
    if src is None:  # the installed entry point
        return [str(Path(sys.executable).parent / "aar"), *cmd, "--help"]
    code = (f"import sys; sys.path.insert(0, {str(src)!r}); sys.argv = ['aar', *{cmd!r}, '--help']\n"
            "import aar.cli\nentry = getattr(aar.cli, 'main', None) or aar.cli.app\nentry()")
    return [sys.executable, "-c", code]


def time_once(argv: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def measure(src: Path | None, runs: int) -> dict[str, tuple[float, float]]:
    out = {}
    for cmd in COMMANDS:
        argv = _argv(src, cmd)
        time_once(argv)  # warm the page cache
        samples = [time_once(argv) for _ in range(runs)]
        out["aar " + " ".join(cmd)] = (statistics.median(s[0] for s in samples),
                                       statistics.median(s[1] for s in samples))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--src", type=Path, default=None, help="another aar checkout to time alongside")
    args = ap.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} cores")
    this = measure(None, args.runs)
    other = measure(args.src.resolve(), args.runs) if args.src else None
    header = f"{'command':24s} {'wall s':>7s} {'cpu s':>7s}"
    if other:
        header += f" | {'other wall':>10s} {'other cpu':>9s}"
    print(header)
    for name, (wall, cpu) in this.items():
        line = f"{name:24s} {wall:7.3f} {cpu:7.3f}"
        if other:
            o_wall, o_cpu = other[name]
            line += f" | {o_wall:10.3f} {o_cpu:9.3f}"
        print(line)
    worst = max(w for w, _ in this.values())
    print(f"slowest --help: {worst:.3f} s wall (target <= 0.3 s)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
