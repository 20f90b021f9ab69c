"""Every command on bad input: one line of output, a non-zero exit, nothing created or changed.

Each case runs the installed `aar` in a fresh folder with an empty cache (`AAR_CACHE`), except the few
that need a built task (they use the session's tiny tasks); every file under the folder, the cache and
the tiny tasks is compared before and after.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

AAR = str(Path(sys.executable).parent / "aar")


@dataclass
class Env:
    home: Path  # cwd of the command and where its files are made
    cache: Path  # AAR_CACHE
    tasks: Path  # the session's tiny tasks root
    busy_port: int


Case = Callable[[Env], list[str]]


def _run_toml(env: Env, body: str, name: str = "run.toml") -> str:
    path = env.home / name
    path.write_text(body)
    return str(path)


def _tiny_run(env: Env, extra: str = "", task: str = "math") -> str:
    return _run_toml(
        env,
        f'run_dir = "{env.home / "r"}"\ntask = "{task}"\nsize = "tiny"\ntasks_dir = "{env.tasks}"\n{extra}',
        f"run-{abs(hash(extra)) % 10**6}.toml",
    )


def _release(env: Env, bad_row: bool = False) -> str:
    d = env.home / "rel" / ("bad" if bad_row else "math")
    d.mkdir(parents=True, exist_ok=True)
    row = '{"question": "1+1", "choice": "2", "label": true}\n'
    for split in ("train_label", "train_unlabel", "test"):
        (d / f"{split}.jsonl").write_text(row + ("not json\n" if bad_row and split == "test" else row))
    return str(d)


def _existing_import(env: Env) -> list[str]:
    out = env.home / "imported"
    (out / "math" / "main").mkdir(parents=True)
    return ["w2s", "import-aar", _release(env), "--out", str(out)]


def _run_folder(env: Env, toml: str | None) -> str:
    d = env.home / "somerun"
    d.mkdir(exist_ok=True)
    if toml is not None:
        (d / "run.toml").write_text(toml)
    return str(d)


CASES: dict[str, Case] = {
    # the root
    "unknown command": lambda e: ["bogus"],
    "unknown option": lambda e: ["demo", "--bogus"],
    # aar demo: all refused before anything is built
    "demo --agents 0": lambda e: ["demo", "--agents", "0"],
    "demo --agents abc": lambda e: ["demo", "--agents", "abc"],
    "demo --minutes 0": lambda e: ["demo", "--minutes", "0"],
    "demo --verify-minutes -1": lambda e: ["demo", "--verify-minutes", "-1"],
    "demo --size huge": lambda e: ["demo", "--size", "huge"],
    "demo --task chess": lambda e: ["demo", "--task", "chess"],
    "demo --sandbox jail": lambda e: ["demo", "--sandbox", "jail"],
    "demo --jobs 0": lambda e: ["demo", "--jobs", "0"],
    "demo --run-dir a file": lambda e: ["demo", "--run-dir", str(_file(e, "afile"))],
    "demo --run-dir an existing run": lambda e: ["demo", "--run-dir", _run_folder(e, "task = 'math'\n")],
    # aar report / aar resume: a folder that is not a run
    "report /nonexistent/run": lambda e: ["report", "/nonexistent/run"],
    "report a folder that is not a run": lambda e: ["report", str(_dir(e, "notarun"))],
    "report a file": lambda e: ["report", str(_file(e, "afile"))],
    "report a run with a broken run.toml": lambda e: ["report", _run_folder(e, "task = [\n")],
    "report a run that never started": lambda e: ["report", _run_folder(e, 'run_dir = "."\ntask = "math"\n')],
    "resume /nonexistent/run": lambda e: ["resume", "/nonexistent/run"],
    "resume a folder that is not a run": lambda e: ["resume", str(_dir(e, "notarun"))],
    "resume a run with an invalid run.toml": lambda e: [
        "resume",
        _run_folder(e, 'task = "math"\nbogus = 1\n'),
    ],
    "resume a run whose task is not built": lambda e: [
        "resume",
        _run_folder(e, 'run_dir = "."\ntask = "math"\n'),
    ],
    "resume --minutes 0": lambda e: ["resume", _run_folder(e, "task = 'math'\n"), "--minutes", "0"],
    # aar run
    "run without --config": lambda e: ["run"],
    "run --config missing": lambda e: ["run", "--config", str(e.home / "missing.toml")],
    "run --config a folder": lambda e: ["run", "--config", str(_dir(e, "conf"))],
    "run --config not TOML": lambda e: ["run", "--config", _run_toml(e, "task = [\n")],
    "run --config no task": lambda e: ["run", "--config", _run_toml(e, 'run_dir = "r"\n')],
    "run --config agents 0": lambda e: ["run", "--config", _tiny_run(e, "[agents]\ncount = 0\n")],
    "run --config unknown direction": lambda e: [
        "run",
        "--config",
        _tiny_run(e, '[agents]\ndirections = ["telepathy"]\n'),
    ],
    "run --config task not built": lambda e: ["run", "--config", _tiny_run(e, task="chess")],
    "run --config port in use": lambda e: [
        "run",
        "--config",
        _tiny_run(e, f"[server]\nport = {e.busy_port}\n"),
    ],
    "run --config url without token": lambda e: [
        "run",
        "--config",
        _tiny_run(e, '[server]\nurl = "http://127.0.0.1:9"\n'),
    ],
    # aar serve
    "serve without --run-dir": lambda e: ["serve"],
    "serve --db-url not a URL": lambda e: ["serve", "--run-dir", str(e.home / "s"), "--db-url", "not a url"],
    "serve --db-url unknown dialect": lambda e: [
        "serve",
        "--run-dir",
        str(e.home / "s"),
        "--db-url",
        "nosql://x",
    ],
    "serve --db-url nobody listening": lambda e: [
        "serve",
        "--run-dir",
        str(e.home / "s"),
        "--db-url",
        "postgresql://u@127.0.0.1:1/x",
    ],
    "serve --db-url sqlite in a missing folder": lambda e: [
        "serve",
        "--run-dir",
        str(e.home / "s"),
        "--db-url",
        f"sqlite:///{e.home}/no/such/x.db",
    ],
    "serve port in use": lambda e: ["serve", "--run-dir", str(e.home / "s"), "--port", str(e.busy_port)],
    "serve --port 70000": lambda e: ["serve", "--run-dir", str(e.home / "s"), "--port", "70000"],
    "serve --no-tcp --no-uds": lambda e: ["serve", "--run-dir", str(e.home / "s"), "--no-tcp", "--no-uds"],
    "serve --tasks-dir missing": lambda e: [
        "serve",
        "--run-dir",
        str(e.home / "s"),
        "--tasks-dir",
        "/nonexistent",
    ],
    "serve --run-dir a file": lambda e: ["serve", "--run-dir", str(_file(e, "afile"))],
    "serve --budget 0": lambda e: ["serve", "--run-dir", str(e.home / "s"), "--budget", "0"],
    "serve --log-level loud": lambda e: ["serve", "--run-dir", str(e.home / "s"), "--log-level", "loud"],
    # aar mcp
    "mcp without --url/--uds": lambda e: ["mcp", "--agent-token", "t", "--workspace", str(_dir(e, "ws"))],
    "mcp --transport smoke": lambda e: [
        "mcp",
        "--agent-token",
        "t",
        "--workspace",
        str(_dir(e, "ws")),
        "--url",
        "http://x",
        "--transport",
        "smoke",
    ],
    "mcp --sandbox jail": lambda e: [
        "mcp",
        "--agent-token",
        "t",
        "--workspace",
        str(_dir(e, "ws")),
        "--url",
        "http://x",
        "--sandbox",
        "jail",
    ],
    "mcp --sandbox none without --unsafe-no-sandbox": lambda e: [
        "mcp",
        "--agent-token",
        "t",
        "--workspace",
        str(_dir(e, "ws")),
        "--url",
        "http://x",
        "--sandbox",
        "none",
    ],
    "mcp --workspace missing": lambda e: [
        "mcp",
        "--agent-token",
        "t",
        "--workspace",
        "/nonexistent",
        "--url",
        "x",
    ],
    # aar sandbox check
    "sandbox check --kind jail": lambda e: ["sandbox", "check", "--kind", "jail"],
    "sandbox check --only nothing": lambda e: ["sandbox", "check", "--only", "no_such_attempt"],
    "sandbox check --kind none without --unsafe-no-sandbox": lambda e: ["sandbox", "check", "--kind", "none"],
    # aar zoo / aar w2s
    "zoo build --size huge": lambda e: ["zoo", "build", "--size", "huge"],
    "zoo build --task chess": lambda e: ["zoo", "build", "--task", "chess"],
    "zoo build --jobs 0": lambda e: ["zoo", "build", "--jobs", "0"],
    "w2s prepare --size huge": lambda e: ["w2s", "prepare", "--size", "huge"],
    "w2s prepare --task chess": lambda e: ["w2s", "prepare", "--task", "chess"],
    "w2s baselines without --task": lambda e: ["w2s", "baselines"],
    "w2s baselines --task chess": lambda e: ["w2s", "baselines", "--task", "chess"],
    "w2s baselines --mode guess": lambda e: ["w2s", "baselines", "--task", "math", "--mode", "guess"],
    "w2s baselines --idea magic": lambda e: ["w2s", "baselines", "--task", "math", "--idea", "magic"],
    "w2s baselines --seeds 0": lambda e: ["w2s", "baselines", "--task", "math", "--seeds", "0"],
    "w2s import-aar missing": lambda e: ["w2s", "import-aar", "/nonexistent"],
    "w2s import-aar a folder with no data": lambda e: ["w2s", "import-aar", str(_dir(e, "empty"))],
    "w2s import-aar bad JSON line": lambda e: [
        "w2s",
        "import-aar",
        _release(e, bad_row=True),
        "--out",
        str(e.home / "out"),
    ],
    "w2s import-aar --seeds a,b": lambda e: ["w2s", "import-aar", _release(e), "--seeds", "a,b"],
    "w2s import-aar --mode guess": lambda e: [
        "w2s",
        "import-aar",
        _release(e),
        "--prepare",
        "--mode",
        "guess",
    ],
    "w2s import-aar over an existing task": _existing_import,
}


def _file(env: Env, name: str) -> Path:
    p = env.home / name
    p.write_text("x")
    return p


def _dir(env: Env, name: str) -> Path:
    p = env.home / name
    p.mkdir(exist_ok=True)
    return p


def _snapshot(*roots: Path) -> dict[str, str]:
    out = {}
    for root in roots:
        for p in sorted(root.rglob("*")):
            if p.is_symlink() or not p.is_file():
                out[str(p)] = "dir" if p.is_dir() else "other"
            else:
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def busy_port() -> Iterator[int]:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    yield s.getsockname()[1]
    s.close()


def _check(name: str, root: Path, tasks: Path, port: int) -> str | None:
    """None if the case behaved; else what went wrong."""
    env = Env(root / "home", root / "cache", tasks, port)
    env.home.mkdir(parents=True)
    env.cache.mkdir()
    args = CASES[name](env)
    before = _snapshot(env.home, env.cache, tasks)
    cp = subprocess.run(
        [AAR, *args],
        cwd=env.home,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "AAR_CACHE": str(env.cache), "COLUMNS": "200"},
    )
    lines = [x for x in (cp.stdout + cp.stderr).splitlines() if x.strip()]
    after = _snapshot(env.home, env.cache, tasks)
    problems = []
    if cp.returncode == 0:
        problems.append("exit 0")
    if len(lines) != 1 or "Traceback" in cp.stdout + cp.stderr:
        problems.append(f"{len(lines)} lines: {(cp.stdout + cp.stderr)[-600:]!r}")
    if before != after:
        changed = sorted(set(before.items()) ^ set(after.items()))
        problems.append(f"files changed: {changed[:5]}")
    return f"{name} ({' '.join(args)}): {'; '.join(problems)}" if problems else None


def test_bad_input_is_one_line_and_changes_nothing(tiny_tasks: Path, tmp_path: Path, busy_port: int) -> None:
    names = sorted(CASES)
    with ThreadPoolExecutor(2) as pool:
        results = list(
            pool.map(
                lambda ix: _check(ix[1], tmp_path / f"c{ix[0]}", tiny_tasks, busy_port), enumerate(names)
            )
        )
    failures = [r for r in results if r]
    assert not failures, "\n".join(failures)
    for name in names:
        print(name)  # noqa: T201 - with -s, the list of cases walked


def test_one_line_errors_name_the_command(tmp_path: Path) -> None:
    cp = subprocess.run([AAR, "report", "/nonexistent/run"], capture_output=True, text=True, cwd=tmp_path)
    assert cp.returncode == 2 and cp.stdout == ""
    assert cp.stderr == "aar report: error: /nonexistent/run: no such folder\n"
    assert not Path("/nonexistent/run").exists()
