"""Full stack: `python -m aar.agents.llm` (the supervisor's entry point) with the REAL anthropic SDK against
the scripted model server, the real ToolSet in a bubblewrap sandbox, the compute queue, and a real
`aar.server` subprocess: the scripted researcher writes an idea, runs it with the idea runner, evaluates
it on the server and shares it with its snapshot."""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from scripted_llm_server import Fail, Reply, ScriptedLLMServer

from aarlab.client import AarClient

REPO = Path(__file__).resolve().parents[2]
N = {"train_label": 24, "train_unlabel": 40, "test": 30}
WORDS = {1: ["good", "great", "fine", "nice"], 0: ["bad", "poor", "awful", "weak"]}
DIRECTION = "Naive Bayes on weak labels: does adding the weak-labelled set beat train_label alone?"

IDEA = """import json
import math
import random
from collections import Counter


def rows(path):
    return [json.loads(line) for line in open(path)]


def main(ctx):
    d = ctx.data_dir
    weak = json.load(open(d / "weak" / f"seed{ctx.seed}.json"))["train_unlabel"]
    data = [(r["text"], r["label"]) for r in rows(d / "train_label.jsonl")]
    keep = ctx.config["keep_conf"]
    unlabel = rows(d / "train_unlabel.jsonl")
    data += [(r["text"], int(p > 0.5)) for r, p in zip(unlabel, weak) if abs(p - 0.5) >= keep]
    counts = {0: Counter(), 1: Counter()}
    for text, y in data:
        counts[y].update(text.split())
    vocab = set(counts[0]) | set(counts[1])

    def score(text, y):
        total = sum(counts[y].values()) + len(vocab)
        return sum(math.log((counts[y][w] + 1) / total) for w in text.split())

    preds = [int(score(r["text"], 1) > score(r["text"], 0)) for r in rows(d / "test.jsonl")]
    (ctx.output_dir / "predictions.json").write_text(json.dumps({"test": preds}))
"""


def write_task(root: Path, name: str = "alpha") -> Path:
    rng = random.Random(7)

    def example(y: int) -> str:
        return " ".join(rng.choice(WORDS[y] if rng.random() < 0.7 else WORDS[1 - y]) for _ in range(5))

    for draw in ("main", "heldout"):
        pub, prv = root / name / draw / "public", root / name / draw / "private"
        (pub / "weak").mkdir(parents=True)
        prv.mkdir(parents=True)
        labels = {k: [rng.randint(0, 1) for _ in range(v)] for k, v in N.items()}
        texts = {k: [example(y) for y in labels[k]] for k in N}
        with open(pub / "train_label.jsonl", "w") as f:
            for i, (t, y) in enumerate(zip(texts["train_label"], labels["train_label"], strict=True)):
                f.write(json.dumps({"id": i, "text": t, "label": y}) + "\n")
        for split in ("train_unlabel", "test"):
            with open(pub / f"{split}.jsonl", "w") as f:
                for i, t in enumerate(texts[split]):
                    f.write(json.dumps({"id": i, "text": t}) + "\n")
        weak = [
            min(0.95, max(0.05, (0.75 if y else 0.25) + rng.uniform(-0.3, 0.3)))
            for y in labels["train_unlabel"]
        ]
        (pub / "weak" / "seed0.json").write_text(
            json.dumps({"seed": 0, "train_unlabel": weak, "weak_test_acc": 0.6})
        )
        meta = {
            "task": name,
            "draw": draw,
            "size": "tiny",
            "description": "Is the review positive?",
            "n": N,
            "models": {"weak": "/nonexistent/weak", "strong": "/nonexistent/strong"},
            "seeds": [0],
            "reference_mode": "probe",
            "baselines": {
                "probe": {"weak_acc": 0.6, "strong_acc": 0.9, "weak_acc_se": 0.01, "strong_acc_se": 0.01}
            },
        }
        (pub / "meta.json").write_text(json.dumps(meta))
        (prv / "labels.json").write_text(json.dumps({k: labels[k] for k in ("train_unlabel", "test")}))
        (prv / "test_public_mask.json").write_text(json.dumps([i % 2 == 0 for i in range(N["test"])]))
    return root / name / "main" / "public"


@pytest.fixture
def aar_server(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    run_dir, tasks = tmp_path / "run", tmp_path / "tasks"
    run_dir.mkdir()
    write_task(tasks)
    log = open(run_dir / "server.log", "ab")
    cmd = [
        sys.executable,
        "-m",
        "aar.server",
        "--run-dir",
        str(run_dir),
        "--tasks-dir",
        str(tasks),
        "--no-tcp",
    ]
    proc = subprocess.Popen(cmd, stdout=log, stderr=log, cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while not _up(run_dir):
            assert proc.poll() is None, (run_dir / "server.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        yield run_dir, tasks
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def _up(run_dir: Path) -> bool:
    sock, token = run_dir / "server.sock", run_dir / "admin_token"
    if not (sock.exists() and token.exists()):
        return False
    try:
        with AarClient(uds=str(sock), token=token.read_text().strip()) as c:
            return bool(c.health().get("ok"))
    except Exception:  # noqa: BLE001 - not up yet
        return False


def script(data_dir: Path) -> list[Reply | Fail]:
    run = f"python -m aarlab.w2s.run_idea ideas/nb --data-dir {data_dir} --out out/nb --seed 0 --threads 1"
    config = json.dumps({"keep_conf": 0.3})
    return [
        Fail(429, retry_after=0),
        Reply("Let me look around.", [("list_files", {})], 3000, 40),
        Reply("", [("read_file", {"path": str(data_dir / "meta.json")})], 3200, 30),
        Reply(
            "A naive Bayes idea.",
            [
                ("write_file", {"path": "ideas/nb/run.py", "content": IDEA}),
                ("write_file", {"path": "ideas/nb/config.json", "content": config}),
            ],
            3500,
            600,
        ),
        Reply(
            "",
            [("edit_file", {"path": "ideas/nb/config.json", "old": '"keep_conf": 0.5', "new": "x"})],
            4000,
            40,
        ),
        Reply(
            "Wrong value; the file says 0.3.",
            [
                (
                    "edit_file",
                    {"path": "ideas/nb/config.json", "old": '"keep_conf": 0.3', "new": '"keep_conf": 0.2'},
                )
            ],
            4100,
            40,
        ),
        Reply("Run it.", [("bash", {"command": run})], 4200, 50),
        Reply(
            "", [("evaluate", {"predictions_path": "out/nb/predictions.json", "idea": "ideas/nb"})], 4300, 40
        ),
        Reply(
            "Share it.",
            [
                (
                    "share_finding",
                    {
                        "type": "result",
                        "title": "NB on confident weak labels",
                        "body": "keep |p-0.5| >= 0.2",
                        "idea_dir": "ideas/nb",
                        "submission_id": 1,
                    },
                )
            ],
            4400,
            80,
        ),
        Reply("", [("read_forum", {})], 4500, 20),
        Reply(
            "Notes.",
            [("write_file", {"path": "NOTEBOOK.md", "content": "# Notes\n- nb keep 0.2 shared\n"})],
            4600,
            60,
        ),
        Reply("Done.", [], 4700, 10),
    ]


def test_llm_agent_process_against_real_server(aar_server: tuple[Path, Path], tmp_path: Path) -> None:
    run_dir, tasks = aar_server
    data_dir = tasks / "alpha" / "main" / "public"
    admin = AarClient(uds=str(run_dir / "server.sock"), token=(run_dir / "admin_token").read_text().strip())
    token = admin.create_agent("carol", DIRECTION)["token"]
    steps = script(Path("/aar/data"))  # the research view: the agent sees its data at /aar/data
    replies = [s for s in steps if isinstance(s, Reply)]
    with ScriptedLLMServer(steps) as model:
        conf = tmp_path / "llm.json"
        conf.write_text(
            json.dumps(
                {
                    "provider": "anthropic",
                    "model": "claude-sonnet-4-5",
                    "base_url": model.url,
                    "api_key_env": "K",
                    "max_sessions": 1,
                    "retry_base_delay": 0.01,
                    "retry_max_delay": 0.05,
                }
            )
        )
        env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
        env.update(
            AAR_AGENT_TOKEN=token,
            K="sk-scripted",
            AAR_COMPUTE_ROOT=str(run_dir / "queue"),
            AAR_COMPUTE_SLOTS="1",
            OMP_NUM_THREADS="1",
        )
        cmd = [
            sys.executable,
            "-m",
            "aar.agents.llm",
            "--run-dir",
            str(run_dir),
            "--name",
            "carol",
            "--config",
            str(conf),
            "--task",
            "alpha",
            "--data-dir",
            str(data_dir),
            "--sandbox",
            "bwrap",
        ]
        proc = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=180)
        reqs = model.requests
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "max_sessions after 1 session(s), 11 turn(s)" in proc.stderr
    assert [r.answered for r in reqs] == [429] + [200] * len(replies)

    # the model saw: the direction from the server, tool results including errors, the evaluation
    assert (
        DIRECTION in reqs[1].body["system"][0]["text"] and "`/aar/data`" in reqs[1].body["system"][0]["text"]
    )
    assert str(data_dir) not in reqs[1].body["system"][0]["text"]  # no host path of the tasks
    assert (
        "`/workspace`" in reqs[1].body["system"][0]["text"]
    )
    results = [b for b in reqs[-1].body["messages"][-1]["content"]]
    assert results[0]["type"] == "tool_result"
    flat = json.dumps(reqs[-1].body["messages"])
    blocks = [
        b
        for m in reqs[-1].body["messages"]
        if isinstance(m["content"], list)
        for b in m["content"]
        if b.get("type") == "tool_result"
    ]
    assert [not b["is_error"] for b in blocks] == [
        True,
        True,
        True,
        True,
        False,
        True,
        True,
        True,
        True,
        True,
        True,
    ]
    assert "Is the review positive?" in blocks[1]["content"]  # read from the read-only data dir
    assert "exit code 0" in blocks[6]["content"]
    evaluation = json.loads(blocks[7]["content"])
    assert {"accuracy", "pgr"} <= set(evaluation) and evaluation["submission_id"] == 1  # fresh server
    assert "NB on confident weak labels" in flat

    # the server recorded the submission and the finding with its snapshot
    subs = admin.submissions()
    assert len(subs) == 1 and subs[0]["accuracy"] == evaluation["accuracy"]
    finding = [f for f in admin.findings(type="result") if f["title"] == "NB on confident weak labels"][0]
    snap = admin._http.get(f"/api/snapshots/{finding['snapshot_id']}").content
    with tarfile.open(fileobj=io.BytesIO(snap)) as tar:
        cfg = json.loads(tar.extractfile("config.json").read())  # type: ignore[union-attr]
    assert cfg == {"keep_conf": 0.2}

    # files the agent leaves in the run directory
    agent_dir = run_dir / "agents" / "carol"
    audit = [json.loads(x) for x in (agent_dir / "audit.jsonl").read_text().splitlines()]
    assert [a["tool"] for a in audit] == [
        "list_files",
        "read_file",
        "write_file",
        "write_file",
        "edit_file",
        "edit_file",
        "bash",
        "evaluate",
        "share_finding",
        "read_forum",
        "write_file",
    ]
    assert [a["ok"] for a in audit].count(False) == 1 and all(a["agent"] == "carol" for a in audit)
    events = [json.loads(x) for x in (agent_dir / "transcript.jsonl").read_text().splitlines()]
    assert [e["status"] for e in events if e["event"] == "retry"] == [429]
    usage = json.loads((agent_dir / "usage.json").read_text())
    tin, tout = sum(r.input_tokens for r in replies), sum(r.output_tokens for r in replies)
    assert (usage["input_tokens"], usage["output_tokens"], usage["priced"]) == (tin, tout, True)
    assert usage["dollars"] == pytest.approx((tin * 3.0 + tout * 15.0) / 1e6)  # shipped sonnet-4-5 list price
    notebook = (agent_dir / "workspace" / "NOTEBOOK.md").read_text()
    assert notebook.startswith("# Notes") and "## Session 1 summary" in notebook
    assert (run_dir / "queue" / "queue.db").exists()  # the idea run went through the compute queue
