"""Test helpers: a tiny task dir in the contract layout, and `aar serve` run as a real subprocess."""

from __future__ import annotations

import atexit
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from aarlab.client import AarClient

REPO = Path(__file__).resolve().parents[2]
N_TEST = 40  # test-split size of the fixture tasks


@dataclass
class Team:
    admin: AarClient
    a: AarClient
    b: AarClient


def write_task(
    root: Path,
    name: str,
    n_test: int,
    seed: int,
    weak: float = 0.6,
    strong: float = 0.9,
    n_public: int | None = None,
) -> None:
    """Both draws of a task in the contract layout; `n_public` items of test form the public half (else
    about half)."""
    rng = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "theta", "kappa"]

    def text() -> str:
        return " ".join(rng.choice(words) for _ in range(6))

    for draw in ("main", "heldout"):
        pub, prv = root / name / draw / "public", root / name / draw / "private"
        (pub / "weak").mkdir(parents=True, exist_ok=True)
        prv.mkdir(parents=True, exist_ok=True)
        n = {"train_label": 20, "train_unlabel": 30, "test": n_test}
        labels = {k: [rng.randint(0, 1) for _ in range(v)] for k, v in n.items()}
        with open(pub / "train_label.jsonl", "w") as fh:
            for i, y in enumerate(labels["train_label"]):
                fh.write(json.dumps({"id": i, "text": text(), "label": y}) + "\n")
        for split in ("train_unlabel", "test"):
            with open(pub / f"{split}.jsonl", "w") as fh:
                for i in range(n[split]):
                    fh.write(json.dumps({"id": i, "text": text()}) + "\n")
        (pub / "weak" / "seed0.json").write_text(
            json.dumps(
                {
                    "seed": 0,
                    "train_unlabel": [rng.random() for _ in range(n["train_unlabel"])],
                    "weak_test_acc": weak,
                }
            )
        )
        meta = {
            "task": name,
            "draw": draw,
            "size": "tiny",
            "description": f"test task {name}",
            "n": n,
            "models": {"weak": "/nonexistent/weak", "strong": "/nonexistent/strong"},
            "seeds": [0],
            "reference_mode": "probe",
            "baselines": {
                "probe": {"weak_acc": weak, "strong_acc": strong, "weak_acc_se": 0.01, "strong_acc_se": 0.01}
            },
        }
        (pub / "meta.json").write_text(json.dumps(meta))
        (prv / "labels.json").write_text(json.dumps({k: labels[k] for k in ("train_unlabel", "test")}))
        mask_rng = random.Random(seed + 1000)
        if n_public is None:
            mask = [mask_rng.random() < 0.5 for _ in range(n_test)]
        else:
            public = set(mask_rng.sample(range(n_test), n_public))
            mask = [i in public for i in range(n_test)]
        (prv / "test_public_mask.json").write_text(json.dumps(mask))


def read_labels(root: Path, task: str) -> tuple[list[int], list[bool]]:
    prv = root / task / "main" / "private"
    return json.loads((prv / "labels.json").read_text())["test"], json.loads(
        (prv / "test_public_mask.json").read_text()
    )


@dataclass
class ServerProc:
    run_dir: Path
    tasks_dir: Path
    extra: list[str] = field(default_factory=list)
    env: dict[str, str] | None = None  # the server's environment (default: this process's)
    proc: subprocess.Popen | None = None
    url: str = ""
    uds: str = ""

    def start(self, timeout: float = 60.0) -> ServerProc:
        info = self.run_dir / "server.json"
        info.unlink(missing_ok=True)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.run_dir / "server.log", "ab")
        env = dict(self.env if self.env is not None else os.environ, PYTHONPATH=str(REPO))
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aar.server",
                "--run-dir",
                str(self.run_dir),
                "--tasks-dir",
                str(self.tasks_dir),
                "--port",
                "0",
                *self.extra,
            ],
            stdout=log,
            stderr=log,
            env=env,
            cwd=REPO,
        )
        atexit.register(self.kill)  # never leave a server behind, even if a test run is interrupted
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {(self.run_dir / 'server.log').read_text()[-3000:]}")
            if info.exists():
                data = json.loads(info.read_text())
                if data["pid"] == self.proc.pid:
                    self.url, self.uds = data.get("url", ""), data.get("uds", "")
                    if self._up():
                        return self
            time.sleep(0.05)
        raise RuntimeError("server did not start in time")

    def _up(self) -> bool:
        host, port = self.url.removeprefix("http://").rsplit(":", 1)
        try:
            with socket.create_connection((host, int(port)), timeout=0.2):
                return True
        except OSError:
            return False

    def admin_token(self) -> str:
        return (self.run_dir / "admin_token").read_text().strip()

    def client(self, token: str | None = None, uds: bool = False) -> AarClient:
        token = token or self.admin_token()
        return AarClient(uds=self.uds, token=token) if uds else AarClient(self.url, token=token)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


SEARCH_CASES = [  # (query, titles that must match): stemming, no stop words, every word required
    ("searching", ["Searches that rank", "The searched ranking"]),
    ("rank search", ["Searches that rank", "The searched ranking"]),
    ("the", ["The searched ranking", "of the filters"]),
    ("filtering", ["of the filters", "Filter-based über-rounds"]),
    ("über round", ["Filter-based über-rounds"]),
    ("uber", []),
    ("snake_case", ["snake_case names"]),
    ("rank zebra", []),
]


def check_search(client: AarClient) -> None:
    """The forum search rule on whatever database the server runs (same answers on every one)."""
    tag = f"srch{random.Random().randrange(10**9)}"
    titles = sorted({t for _, ts in SEARCH_CASES for t in ts})
    ids = {t: client.post_finding(type="insight", title=t, body=tag)["id"] for t in titles}
    for query, want in SEARCH_CASES:
        got = [f["id"] for f in client.findings(q=f"{query} {tag}", limit=1000)]
        assert got == sorted(ids[t] for t in want), (query, got, want)
