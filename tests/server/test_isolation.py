"""Identity isolation: an agent acts only as itself, sees only its own private data, never admin routes."""

from __future__ import annotations

import httpx
import pytest
from server_helpers import N_TEST, ServerProc, Team

from aarlab.client import AarClientError


def test_agent_cannot_post_as_another(server: ServerProc, team: Team) -> None:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {team.a.token}"}) as c:
        for field in ({"agent": "agent-b"}, {"agent_id": team.b.me()["agent_id"]}):
            resp = c.post("/api/findings", json={"type": "insight", "title": "spoof", "body": "", **field})
            assert resp.status_code == 422
        resp = c.post(
            "/api/evaluate", json={"task": "alpha", "predictions": [0] * N_TEST, "agent": "agent-b"}
        )
        assert resp.status_code == 200
        sub_id = resp.json()["submission_id"]
    assert sub_id in {s["submission_id"] for s in team.a.submissions()}
    assert sub_id not in {s["submission_id"] for s in team.b.submissions()}
    post = team.a.post_finding(type="insight", title="mine", body="")
    assert post["agent"] == "agent-a"


def test_agent_sees_only_own_submissions_and_no_private_scores(team: Team) -> None:
    b_sub = team.b.evaluate("alpha", [1] * N_TEST, idea="b-secret")["submission_id"]
    mine = team.a.submissions()
    assert all(s["agent"] == "agent-a" for s in mine)
    assert b_sub not in {s["submission_id"] for s in mine}
    assert b_sub not in {s["submission_id"] for s in team.a.submissions(agent="agent-b")}
    assert all("private_pgr" not in s and "private_accuracy" not in s for s in mine)
    assert all("private_pgr" not in r for r in team.a.leaderboard())
    assert any(s["submission_id"] == b_sub and "private_pgr" in s for s in team.admin.submissions())


def test_agent_cannot_use_admin_routes(team: Team) -> None:
    calls = [
        lambda: team.a.create_agent("sneaky"),
        lambda: team.a.agent_token("agent-b"),
        lambda: team.a.submission_predictions(1),
        lambda: team.a.post_recheck(
            {"finding_id": 1}, "heldout", "alpha", "heldout", 0, predictions=[0] * N_TEST
        ),
        lambda: team.a.close_verification({"finding_id": 1}),
        lambda: team.a.probing(),
    ]
    for call in calls:
        with pytest.raises(AarClientError) as err:
            call()
        assert err.value.status == 403
    assert "sneaky" not in {a["name"] for a in team.admin.agents()}


def test_admin_agent_token_issue_cannot_escalate(team: Team) -> None:
    with pytest.raises(AarClientError) as err:
        team.admin.agent_token("admin")
    assert err.value.status == 404
