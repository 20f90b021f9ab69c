"""The dashboard in real headless Chromium against a real `aar serve` subprocess: a `math` run on a server
that also serves `code` (which sorts first), with recipe snapshots, a result built on another, a verified
baseline, an overseer queue, an experiment running in the compute queue and audit logs with Unix times."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "server"))
from server_helpers import ServerProc, read_labels, write_task  # noqa: E402

from aar.compute import ComputeQueue  # noqa: E402
from aarlab.w2s.baselines import BASELINES_DIR  # noqa: E402

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
RUN_PY = (BASELINES_DIR / "aux_confidence" / "run.py").read_text()
AUDIT_T = time.time() - 190  # an action about three minutes ago, in Unix seconds as the tool set writes it


def recipe_idea(root: Path, name: str, recipe: dict) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "run.py").write_text(RUN_PY)
    (folder / "config.json").write_text(json.dumps({**recipe, "name": name}, indent=1, sort_keys=True))
    (folder / "NOTES.md").write_text(f"# {name}\n")
    return folder


def flipped(labels: list[int], every: int) -> list[int]:
    return [1 - y if i % every == 0 else y for i, y in enumerate(labels)]


# a run on two Ray nodes, as its folder records it: where each agent started (alice restarted on n2), the
# experiments the agents and the overseer ran on each node with their measured CPU-seconds, and one
# experiment of bob's running now on n1 (its running.json, pulled to the head with his folder)
PLACEMENTS = {"alice": ["n1", "n2"], "bob": ["n1"]}
AGENT_RUNS = {"alice": [("idea-001/seed0", "n1", 41.4), ("idea-002/seed0", "n2", 7.5)],
              "bob": [("python -m aarlab.w2s.run_idea ideas/b1", "n1", 10.0)]}
OVERSEER_RUNS = [("f1/reproduce/s0", "n2", 100.0), ("f3/heldout/s0", "n1", 3.0)]
NODE_CPU = {"n1": "54.4", "n2": "107.5"}  # 41.4 + 10 + 3, 7.5 + 100, as the page prints them


def seed_nodes(run_dir: Path) -> None:
    t = time.time() - 600
    for agent, nodes in PLACEMENTS.items():
        folder = run_dir / "agents" / agent
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "placements.jsonl").write_text(
            "".join(json.dumps({"t": t + i, "node": n, "restart": i}) + "\n" for i, n in enumerate(nodes))
        )
        (folder / "experiments.jsonl").write_text("".join(
            json.dumps({"t": t + 60, "agent": agent, "label": label, "node": n, "seconds": 2 * cpu,
                        "cpu_seconds": cpu, "gpu_seconds": 0.0, "waited": 0.1}) + "\n"
            for label, n, cpu in AGENT_RUNS[agent]
        ))
    (run_dir / "agents" / "bob" / "running.json").write_text(
        json.dumps([{"label": "idea-007/seed1", "state": "running", "node": "n1", "since": time.time() - 20}])
    )
    ov = run_dir / "overseer"
    ov.mkdir(exist_ok=True)
    (ov / "runs.jsonl").write_text("".join(
        json.dumps({"t": t, "agent": "overseer", "label": label, "node": n, "seconds": cpu,
                    "cpu_seconds": cpu, "gpu_seconds": 0.0}) + "\n" for label, n, cpu in OVERSEER_RUNS
    ))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    tasks = tmp_path_factory.mktemp("tasks")
    write_task(tasks, "math", 40, seed=3)
    write_task(tasks, "code", 40, seed=4)
    srv = ServerProc(tmp_path_factory.mktemp("run"), tasks, ["--budget", "1000", "--task", "math"]).start()
    admin = srv.client()
    tokens = {name: admin.create_agent(name)["token"] for name in ("alice", "bob")}
    alice, bob = srv.client(tokens["alice"]), srv.client(tokens["bob"])
    labels, _ = read_labels(tasks, "math")
    held = json.loads((tasks / "math" / "heldout" / "private" / "labels.json").read_text())["test"]
    held_code = json.loads((tasks / "code" / "heldout" / "private" / "labels.json").read_text())["test"]
    ideas = tmp_path_factory.mktemp("ideas")
    base = {"label_source": "weak_soft", "loss": "aux_conf"}
    posted = {}
    for k, (c, recipe, parent) in enumerate(
        (
            (alice, base, None),
            (bob, {**base, "filter": "weak_confidence", "filter_keep": 0.6}, "alice"),
        )
    ):
        name = c.me()["name"]
        preds = flipped(labels, 3 + 2 * k)
        snap = c.upload_snapshot(recipe_idea(ideas, f"{name}-idea", recipe))
        sub = c.evaluate("math", preds, idea=f"idea-00{k + 1}", snapshot_id=snap)
        f = c.post_finding(
            type="result",
            title=f"idea-00{k + 1}: PGR by {name}",
            body="aux conf" + (" with a confidence filter" if k else ""),
            task="math",
            submission_id=sub["submission_id"],
            snapshot_id=snap,
            parent_id=posted.get(parent),
        )
        posted[name] = f["id"]
        c.post_finding(
            type="hypothesis", title=f"hypothesis {k}", body="maybe more rounds", parent_id=f["id"]
        )
        subject = {"finding_id": f["id"]}
        admin.post_recheck(subject, "reproduce", "math", "main", 0, predictions=preds)
        admin.post_recheck(subject, "heldout", "math", "heldout", 0, predictions=flipped(held, 3 + 2 * k))
        admin.post_recheck(subject, "generalization", "code", "heldout", 0, predictions=flipped(held_code, 4))
        admin.close_verification(subject)
    # a result the overseer has not closed yet (pending), on the run's task
    snap = alice.upload_snapshot(recipe_idea(ideas, "alice-idea-3", {**base, "rounds": 2}))
    sub = alice.evaluate("math", flipped(labels, 6), idea="idea-003", snapshot_id=snap)
    alice.post_finding(
        type="result", title="idea-003: pending", body="", task="math", submission_id=sub["submission_id"],
        snapshot_id=snap,
    )
    alice.post_finding(
        type="insight", title="filter=weak_confidence helps: +0.050 PGR (n=3)", body="paired",
        metrics={"effect": 0.05, "n": 3.0},
    )
    # a verified baseline on math (the plot draws it)
    bsub = {"baseline": "vanilla_w2s", "task": "math"}
    admin.post_recheck(bsub, "heldout", "math", "heldout", 0, predictions=flipped(held, 4))
    admin.close_verification(bsub)
    # the overseer's durable queue, as aar.overseer.state writes it
    ov = srv.run_dir / "overseer"
    ov.mkdir(exist_ok=True)
    jobs = {
        "1": {"finding_id": 1, "agent": "alice", "status": "done"},
        "3": {"finding_id": 3, "agent": "bob", "status": "done"},
        "5": {"finding_id": 5, "agent": "alice", "status": "running", "started_at": time.time() - 30},
        "9": {"finding_id": 9, "agent": "bob", "status": "queued"},
    }
    (ov / "state.json").write_text(
        json.dumps(
            {
                "jobs": jobs,
                "baselines": {"vanilla_w2s": {"status": "verified", "verified_pgr": 0.5}},
                "baselines_wanted": ["vanilla_w2s", "weak"],
                "compute": {"runs": 7, "seconds": 70.0, "cpu_seconds": 3600.0},
            }
        )
    )
    # alice's last tool call (Unix seconds), and an experiment of hers running in the run's compute queue
    audit = srv.run_dir / "agents" / "alice" / "audit.jsonl"
    audit.parent.mkdir(parents=True)
    cmd = (
        "mkdir -p out/idea-002/seed0 && MKL_NUM_THREADS=1 OMP_NUM_THREADS=1 /opt/venv/bin/python -m "
        "aarlab.w2s.run_idea ideas/idea-002 --data-dir /aar/data --out out/idea-002/seed0 --seed 0 "
        "--threads 1"
    )
    rec = {"t": AUDIT_T, "agent": "alice", "tool": "bash", "args": {"command": cmd}, "ok": True}
    audit.write_text(json.dumps(rec) + "\n")
    seed_nodes(srv.run_dir)
    queue = ComputeQueue(srv.run_dir / "queue", 1)
    held_slot, release = threading.Event(), threading.Event()

    def hold() -> None:
        with queue.slot("alice", "idea-002/seed0"):
            held_slot.set()
            release.wait(120)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert held_slot.wait(30)
    srv.alice = alice  # type: ignore[attr-defined]
    srv.tokens = tokens  # type: ignore[attr-defined]
    srv.posted = posted  # type: ignore[attr-defined]
    yield srv
    release.set()
    holder.join(10)
    for c in (admin, alice, bob):
        c.close()
    srv.stop()


def test_dashboard_live_and_filters(live: ServerProc) -> None:
    from playwright.sync_api import expect, sync_playwright

    token = live.admin_token()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1000}, timezone_id="UTC")
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{live.url}/?token={token}")
        # the run's own task is selected, though `code` comes first
        expect(page.locator("#task")).to_have_value("math")
        expect(page.locator("#task option").first).to_have_text("code")
        expect(page.locator("#run-info")).to_contain_text("run task math")
        # verified leaderboard: alice's and bob's claims and the baseline ranked by verified PGR, the
        # pending result unranked
        rows = page.locator("#leaderboard tbody tr")
        expect(rows).to_have_count(4)
        expect(rows.nth(0)).to_contain_text("bob")
        expect(rows.nth(0).locator("td").first).to_have_text("1")
        expect(page.locator("#leaderboard tr.baseline")).to_contain_text("vanilla_w2s")
        expect(page.locator("#leaderboard tr.baseline td").first).to_have_text("2")
        expect(page.locator("#leaderboard tbody tr.unranked")).to_contain_text("pending")
        expect(rows.nth(0)).to_contain_text("code 0.50")  # generalization
        # the plot: the team, one line per agent, the verified baseline drawn in
        expect(page.locator("#plot svg path.team")).to_have_count(1)
        expect(page.locator("#plot svg path.agent")).to_have_count(2)
        expect(page.locator("#plot svg g.baseline")).to_contain_text("vanilla_w2s")
        # agents: no overseer among them; actions as tool + short argument; times as times
        expect(page.locator("#agents tbody tr")).to_have_count(2)
        alice = page.locator('#agents tr[data-agent="alice"]')
        expect(alice.locator("td.action")).to_have_text(
            re.compile(r"^bash: python -m aarlab\.w2s\.run_idea ideas/idea-002 --data-dir /aar/data .*…$")
        )
        clock = dt.datetime.fromtimestamp(AUDIT_T, dt.UTC).strftime("%H:%M:%S")
        expect(alice.locator("td.when")).to_contain_text(clock)
        # AUDIT_T is fixed when the module loads: on a loaded machine minutes may pass before this line
        mins = round((time.time() - AUDIT_T) / 60)
        ago = "|".join(str(m) for m in range(max(mins - 1, 1), mins + 2))
        expect(alice.locator("td.when")).to_contain_text(re.compile(rf"\b({ago}) min ago"))
        expect(alice).not_to_contain_text(str(int(AUDIT_T)))
        expect(alice).to_contain_text("running idea-002/seed0")
        expect(alice).to_contain_text("998/1000 on math")
        # nodes: where each agent runs now (alice after her restart), where each experiment ran or runs
        expect(alice.locator("td.node")).to_contain_text("n2")
        expect(alice.locator("td.node")).to_contain_text("1 restart; ran on n1 → n2")
        bob = page.locator('#agents tr[data-agent="bob"]')
        expect(bob.locator("td.node")).to_have_text("n1")
        expect(bob).to_contain_text("running idea-007/seed1 on n1")
        expect(alice).to_contain_text("done idea-002/seed0 on n2")
        expect(alice).to_contain_text("done idea-001/seed0 on n1")
        # compute per node: both nodes, their agents, runs and measured CPU-seconds
        nodes = page.locator("#nodes tbody tr")
        expect(nodes).to_have_count(2)
        for name, cpu in NODE_CPU.items():
            row = page.locator(f'#nodes tr[data-node="{name}"]')
            expect(row.locator("td").first).to_have_text(name)
            expect(row.locator("td.cpu")).to_have_text(cpu)
            expect(row.locator("td.runs")).to_have_text("3" if name == "n1" else "2")
        expect(page.locator('#nodes tr[data-node="n1"]')).to_contain_text("alice, bob")
        # the overseer as the overseer: the server's statuses and its queue
        counts = page.locator("#verif-counts")
        expect(counts.locator('[data-status="verified"] b')).to_have_text("2")
        expect(counts.locator('[data-status="pending"] b')).to_have_text("1")
        expect(page.locator("#ov-queue")).to_have_text("1 queued · 1 running · 2 done · 0 failed")
        expect(page.locator("#overseer")).to_contain_text("waiting: weak")
        expect(page.locator("#conn")).to_have_text("live")
        # a row opens its finding: the method in words, the diff against its parent, the checks
        rows.nth(0).click()
        detail = page.locator("#detail")
        expect(page.locator("#sec-detail")).to_be_visible()
        expect(detail.locator("p.method")).to_contain_text("keeping the 60% of unlabeled items")
        expect(detail).to_contain_text(f"against parent #{live.posted['alice']}")  # type: ignore[attr-defined]
        expect(detail.locator("pre.diff .da").first).to_be_visible()
        expect(detail.locator("pre.diff").first).to_contain_text('+ "filter": "weak_confidence"')
        expect(detail).to_contain_text("against baseline aux_confidence")
        # header + the reproduce, held-out and generalization runs
        expect(detail.locator("table.runs tr")).to_have_count(4)
        expect(detail).to_contain_text("reproduce agreement")
        page.locator("#leaderboard tr.baseline").click()
        expect(page.locator("#detail-title")).to_have_text("Baseline vanilla_w2s on math")
        expect(detail.locator("p.method")).to_contain_text("the weak model's hard labels")
        ARTIFACTS.mkdir(exist_ok=True)
        rows.nth(0).click()
        expect(detail.locator("pre.diff").first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
        # threads: the hypotheses are replies nested under their results
        expect(page.locator("#forum .reply > .finding.hypothesis")).to_have_count(2)
        # a new finding posted through the API appears live (SSE), without a reload
        live.alice.post_finding(type="insight", title="live insight zeta", body="posted during the test")  # type: ignore[attr-defined]
        expect(page.locator("#forum")).to_contain_text("live insight zeta", timeout=10_000)
        expect(page.locator("#timeline")).to_contain_text("live insight zeta")
        expect(page.locator("#timeline .tl").first.locator("time")).to_have_count(1)
        # filters: type, agent, search
        page.select_option("#f-type", "insight")
        expect(page.locator("#forum .finding")).to_have_count(2)
        page.select_option("#f-type", "")
        page.select_option("#f-agent", "bob")
        expect(page.locator("#forum .finding")).to_have_count(2)
        expect(page.locator("#forum")).not_to_contain_text("alice")
        page.select_option("#f-agent", "")
        page.fill("#f-q", "more rounds")
        expect(page.locator("#forum .finding")).to_have_count(2)
        page.fill("#f-q", "")
        # another task: its own (empty) board and plot
        page.select_option("#task", "code")
        expect(page.locator("#leaderboard tbody")).to_contain_text("No claims on code yet.")
        expect(page.locator("#plot")).to_contain_text("No evaluations on code yet.")
        browser.close()
    assert not errors, errors


def test_dashboard_json_for_an_agent_holds_no_verification_detail(live: ServerProc) -> None:
    token = live.tokens["bob"]  # type: ignore[attr-defined]
    fid = live.posted["bob"]  # type: ignore[attr-defined]
    with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {token}"}) as c:
        d = c.get(f"/dashboard/findings/{fid}.json").json()
        assert d["verification"]["status"] == "verified"
        assert "runs" not in d["verification"] and "details" not in d["verification"]
        assert d["method"]["recipe"]["filter"] == "weak_confidence"
        ov = c.get("/dashboard/overseer.json", params={"task": "math"}).json()
        assert ov["verifications"] == {
            "verified": 2, "screened": 0, "flagged": 0, "failed": 0, "deferred": 0, "pending": 1
        }
        run = c.get("/api/run").json()
        assert run["task"] == "math" and run["tasks"] == ["code", "math"]
        assert c.get("/dashboard/findings/99999.json").status_code == 404
        assert c.get("/dashboard/overseer.json").json()["verifications"]["pending"] == 1
        assert httpx.get(f"{live.url}/dashboard/overseer.json").status_code == 401
        # the page's per-node figures are the report's and the live table's: one function computes them
        from aar.cluster.costs import by_node

        act = c.get("/dashboard/agents.json").json()
        assert act["nodes"] == by_node(live.run_dir)["nodes"]
        assert act["placements"]["alice"] == {
            "node": "n2", "since": act["placements"]["alice"]["since"], "restarts": 1, "nodes": ["n1", "n2"]
        }


def test_a_claim_the_overseer_holds_for_the_build_counts_as_deferred(live: ServerProc) -> None:
    """The report's `deferred` (checked on the main task, held for the held-out tasks' build) on the page too:
    read from the overseer's state file, counted apart from the claims not closed yet."""
    state_file = live.run_dir / "overseer" / "state.json"
    before = state_file.read_text()
    state = json.loads(before)
    pending = next(int(k) for k, j in state["jobs"].items() if j["status"] == "running")
    state["jobs"][str(pending)]["status"] = "deferred"
    state_file.write_text(json.dumps(state))
    token = live.tokens["bob"]  # type: ignore[attr-defined]
    try:
        with httpx.Client(base_url=live.url, headers={"Authorization": f"Bearer {token}"}) as c:
            ov = c.get("/dashboard/overseer.json", params={"task": "math"}).json()
            assert (ov["verifications"]["deferred"], ov["verifications"]["pending"]) == (1, 0)
            assert ov["jobs"]["deferred"] == 1 and ov["running"] == []
            code = c.get("/dashboard/overseer.json", params={"task": "code"}).json()
            assert code["verifications"]["deferred"] == 0  # the held claim is on math
    finally:
        state_file.write_text(before)
