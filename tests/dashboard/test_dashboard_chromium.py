"""The dashboard in real headless Chromium against a real `aar serve` subprocess."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "server"))
from server_helpers import ServerProc, read_labels, write_task  # noqa: E402

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProc]:
    tasks = tmp_path_factory.mktemp("tasks")
    write_task(tasks, "math", 40, seed=3)
    srv = ServerProc(tmp_path_factory.mktemp("run"), tasks, ["--budget", "1000"]).start()
    admin = srv.client()
    alice = srv.client(admin.create_agent("alice")["token"])
    bob = srv.client(admin.create_agent("bob")["token"])
    labels, _ = read_labels(tasks, "math")
    heldout = json.loads((tasks / "math" / "heldout" / "private" / "labels.json").read_text())["test"]
    idea = tmp_path_factory.mktemp("idea")
    (idea / "run.py").write_text("def main(ctx):\n    pass\n")
    for k, c in enumerate((alice, bob)):
        preds = [y if i % (3 + k) else 1 - y for i, y in enumerate(labels)]
        snap = c.upload_snapshot(idea)
        sub = c.evaluate("math", preds, idea=f"idea-{k}", snapshot_id=snap)
        f = c.post_finding(
            type="result",
            title=f"result of {c.me()['name']}",
            body="conf filtering",
            task="math",
            submission_id=sub["submission_id"],
            snapshot_id=snap,
        )
        c.post_finding(
            type="hypothesis", title=f"hypothesis {k}", body="maybe more rounds", parent_id=f["id"]
        )
        # the server judges: alice's re-run reproduces, bob's does not
        subject = {"finding_id": f["id"]}
        admin.post_recheck(subject, "reproduce", "math", "main", 0, predictions=preds if k == 0 else labels)
        held = [y if i % (3 + k) else 1 - y for i, y in enumerate(heldout)]
        admin.post_recheck(subject, "heldout", "math", "heldout", 0, predictions=held)
        admin.close_verification(subject)
    audit = srv.run_dir / "agents" / "alice" / "audit.jsonl"
    audit.parent.mkdir(parents=True)
    audit.write_text(
        '{"t": "2026-01-01T00:00:00Z", "agent": "alice", "tool": "bash", '
        '"args": {"command": "python run_sweep.py"}, "ok": true, "seconds": 1.5}\n'
    )
    srv.alice = alice  # type: ignore[attr-defined]
    yield srv
    for c in (admin, alice, bob):
        c.close()
    srv.stop()


def test_dashboard_live_and_filters(live: ServerProc) -> None:
    from playwright.sync_api import expect, sync_playwright

    token = live.admin_token()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{live.url}/?token={token}")
        # verified leaderboard: alice ranked 1, bob's flagged row unranked and shows its flag
        rows = page.locator("#leaderboard tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("alice")
        expect(rows.nth(0).locator("td").first).to_have_text("1")
        expect(page.locator("#leaderboard tbody tr.unranked")).to_contain_text("unreproducible")
        expect(page.locator("#agents tbody tr")).to_have_count(3)  # alice, bob + the built-in overseer
        expect(page.locator('#agents tr[data-agent="alice"]')).to_contain_text("run_sweep.py")
        expect(page.locator('#agents tr[data-agent="alice"]')).to_contain_text("999/1000 on math")
        expect(page.locator("#plot svg path.team")).to_have_count(1)
        expect(page.locator("#conn")).to_have_text("live")
        # threads: the hypothesis is a reply nested under its result
        expect(
            page.locator(
                "#forum .finding.result .reply .finding.hypothesis, #forum .reply > .finding.hypothesis"
            )
        ).to_have_count(2)
        # a new finding posted through the API appears live (SSE), without a reload
        live.alice.post_finding(type="insight", title="live insight zeta", body="posted during the test")  # type: ignore[attr-defined]
        expect(page.locator("#forum")).to_contain_text("live insight zeta", timeout=10_000)
        expect(page.locator("#timeline")).to_contain_text("live insight zeta")
        # filters: type, agent, search
        page.select_option("#f-type", "insight")
        expect(page.locator("#forum .finding")).to_have_count(1)
        page.select_option("#f-type", "")
        page.select_option("#f-agent", "bob")
        expect(page.locator("#forum .finding")).to_have_count(2)
        expect(page.locator("#forum")).not_to_contain_text("alice")
        page.select_option("#f-agent", "")
        page.fill("#f-q", "more rounds")
        expect(page.locator("#forum .finding")).to_have_count(2)
        page.fill("#f-q", "")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
        browser.close()
    assert not errors, errors
