"""Bad input over real HTTP: always a 4xx with a detail, never a 500, and nothing stored."""

from __future__ import annotations

import gzip
import io
import json
import math
import tarfile
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from server_helpers import N_TEST, ServerProc, Team

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
    max_leaves=10,
)


def counts(team: Team) -> tuple[int, ...]:
    return (
        len(team.admin.rechecks(limit=10_000)),
        len(team.admin.submissions(limit=10_000)),
        len(team.admin.findings(limit=1000)),
        len(team.admin.snapshots(limit=10_000)),
        len(team.admin.verifications(limit=10_000)),
    )


@pytest.fixture()
def raw(server: ServerProc, team: Team) -> Iterator[httpx.Client]:
    """An httpx client with agent-a's token, checking that nothing was stored once the test is done."""
    blobs = server.run_dir / "blobs"
    before = (counts(team), sum(1 for p in blobs.rglob("*") if p.is_file()))
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {team.a.token}"}, timeout=60
    ) as client:
        yield client
    after = (counts(team), sum(1 for p in blobs.rglob("*") if p.is_file()))
    assert after == before, "a refused request stored something"


def refused(resp: httpx.Response, *allowed: int) -> None:
    assert 400 <= resp.status_code < 500, (resp.status_code, resp.text[:300])
    if allowed:
        assert resp.status_code in allowed, (resp.status_code, resp.text[:300])
    assert isinstance(resp.json()["detail"], str | list)


def bad_predictions() -> st.SearchStrategy:
    good = st.lists(st.integers(0, 1), min_size=N_TEST, max_size=N_TEST)
    wrong_len = st.lists(st.integers(0, 1), max_size=2 * N_TEST).filter(lambda x: len(x) != N_TEST)
    bad_item = st.one_of(
        st.integers().filter(lambda v: v not in (0, 1)),
        st.just(True),
        st.just(False),
        st.just(1.0),
        st.just(0.5),
        st.text(max_size=3),
        st.none(),
        st.lists(st.integers(0, 1)),
    )
    one_bad = st.tuples(good, st.integers(0, N_TEST - 1), bad_item).map(
        lambda t: t[0][: t[1]] + [t[2]] + t[0][t[1] + 1 :]
    )
    return st.one_of(wrong_len, one_bad, json_scalars, st.dictionaries(st.text(max_size=5), json_scalars))


@SETTINGS
@given(preds=bad_predictions())
def test_bad_predictions(raw: httpx.Client, preds: object) -> None:
    refused(raw.post("/api/evaluate", json={"task": "alpha", "split": "test", "predictions": preds}), 422)


@SETTINGS
@given(
    task=st.text(max_size=30).filter(lambda t: t not in ("alpha", "beta")) | json_values,
    split=st.text(max_size=20) | json_values,
)
def test_unknown_task_or_split(raw: httpx.Client, task: object, split: object) -> None:
    refused(raw.post("/api/evaluate", json={"task": task, "split": split, "predictions": [0] * N_TEST}))


def test_agents_cannot_score_train_unlabel(raw: httpx.Client) -> None:
    resp = raw.post(
        "/api/evaluate", json={"task": "alpha", "split": "train_unlabel", "predictions": [0] * 30}
    )
    refused(resp, 403)
    assert "only 'test'" in resp.json()["detail"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_json(raw: httpx.Client, literal: str) -> None:
    preds = ",".join(["0"] * (N_TEST - 1) + [literal])
    body = f'{{"task": "alpha", "split": "test", "predictions": [{preds}]}}'
    refused(raw.post("/api/evaluate", content=body, headers={"Content-Type": "application/json"}), 422)
    refused(
        raw.post(
            "/api/findings",
            content=f'{{"type":"insight","title":"t","body":"b","metrics":{{"x":{literal}}}}}',
            headers={"Content-Type": "application/json"},
        ),
        422,
    )


@SETTINGS
@given(body=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
def test_garbage_bodies(raw: httpx.Client, body: bytes) -> None:
    for path in ("/api/evaluate", "/api/findings"):
        refused(raw.post(path, content=body, headers={"Content-Type": "application/json"}))


@SETTINGS
@given(
    fields=st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(["result", "hypothesis", "insight", "error", "claim"]) | json_scalars,
            "title": json_values,
            "body": json_values,
            "task": json_values,
            "metrics": json_values,
            "snapshot_id": json_values,
            "submission_id": json_values,
            "parent_id": json_values,
            "agent": json_values,
        },
    )
)
def test_bad_findings(raw: httpx.Client, fields: dict) -> None:
    ok_title = isinstance(fields.get("title"), str) and fields["title"].strip()
    valid_shape = (
        fields.get("type") in ("hypothesis", "insight", "error")
        and ok_title
        and all(
            fields.get(k) is None
            for k in ("task", "metrics", "snapshot_id", "submission_id", "parent_id", "agent")
        )
        and isinstance(fields.get("body", ""), str | None)
    )
    if valid_shape:  # make it invalid: a reply to a finding that does not exist
        fields["parent_id"] = 10**12
    refused(raw.post("/api/findings", json=fields))


def test_oversize_bodies(raw: httpx.Client) -> None:
    big = b"[" + b"0," * (5 * 1024 * 1024) + b"0]"
    resp = raw.post(
        "/api/evaluate",
        content=b'{"task":"alpha","predictions":' + big + b"}",
        headers={"Content-Type": "application/json"},
    )
    refused(resp, 413)
    resp = raw.post("/api/snapshots", content=b"\x1f\x8b" + b"\0" * (51 * 1024 * 1024))
    refused(resp, 413)


def _tar(members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data else None)
    return buf.getvalue()


def _member(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"x", link: str = "") -> tuple:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, data if kind == tarfile.REGTYPE else b""


EVIL = {
    "dotdot": [_member("run.py"), _member("../escape.py")],
    "nested-dotdot": [_member("a/../../escape.py")],
    "absolute": [_member("/tmp/aar-escape.py")],
    "symlink": [_member("link", tarfile.SYMTYPE, link="/etc/passwd")],
    "hardlink": [_member("run.py"), _member("hard", tarfile.LNKTYPE, link="run.py")],
    "device": [_member("dev", tarfile.CHRTYPE)],
    "fifo": [_member("pipe", tarfile.FIFOTYPE)],
    # bytecode runs in place of the source beside it, so no snapshot key would describe what runs
    "pycache": [_member("run.py"), _member("__pycache__/run.cpython-311.pyc")],
    "pycache-dir": [_member("run.py"), _member("__pycache__/", tarfile.DIRTYPE)],
    "sourceless-pyc": [_member("run.py"), _member("helper.pyc")],
}


@pytest.mark.parametrize("kind", sorted(EVIL))
def test_unsafe_tar_refused(raw: httpx.Client, kind: str) -> None:
    resp = raw.post("/api/snapshots", content=_tar(EVIL[kind]))
    refused(resp, 422)
    if "pyc" in kind:
        assert "bytecode" in resp.json()["detail"]


@SETTINGS
@given(data=st.binary(max_size=2000))
def test_malformed_tar(raw: httpx.Client, data: bytes) -> None:
    for body in (data, gzip.compress(data)):
        if not body:
            continue
        refused(raw.post("/api/snapshots", content=body))


def test_truncated_tar(raw: httpx.Client) -> None:
    good = _tar([_member("run.py", data=b"y" * 100_000)])
    refused(raw.post("/api/snapshots", content=good[: len(good) // 2]), 422)
    refused(raw.post("/api/snapshots", content=b""), 422)


@SETTINGS
@given(
    header=st.one_of(
        st.none(),
        st.just("Bearer"),
        st.just("Basic abc"),
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=60).map(
            lambda t: "Bearer " + t
        ),
    )
)
def test_missing_or_wrong_token(raw: httpx.Client, header: str | None) -> None:
    headers = {"Authorization": header or ""}
    for method, path, kw in [
        ("GET", "/api/me", {}),
        ("GET", "/api/findings", {}),
        ("GET", "/api/leaderboard", {}),
        ("POST", "/api/evaluate", {"json": {"task": "alpha", "predictions": [0] * N_TEST}}),
        ("POST", "/api/findings", {"json": {"type": "insight", "title": "t", "body": "b"}}),
        ("POST", "/api/snapshots", {"content": _tar([_member("run.py")])}),
        ("POST", "/api/admin/agents", {"json": {"name": "intruder"}}),
    ]:
        refused(raw.request(method, path, headers=headers, **kw), 401)


@SETTINGS
@given(value=json_values)
def test_bad_rechecks_and_closes(raw: httpx.Client, team: Team, value: object) -> None:
    headers = {"Authorization": f"Bearer {team.admin.token}"}
    good = {
        "subject": {"finding_id": 10**12},
        "kind": "heldout",
        "task": "alpha",
        "draw": "heldout",
        "seed": 0,
        "predictions": [0] * N_TEST,
    }
    for key in ("subject", "kind", "task", "draw", "seed", "predictions", "error", "manifest", "seconds"):
        body = dict(good, **{key: value})
        refused(raw.post("/api/admin/rechecks", json=body, headers=headers))
    refused(raw.post("/api/admin/verifications/close", json={"subject": value}, headers=headers))
    refused(
        raw.post(
            "/api/admin/verifications/close",
            json={"subject": {"baseline": "weak", "task": "nope"}, "screened": value},
            headers=headers,
        )
    )


BASELINE = {"baseline": "vanilla_w2s", "task": "alpha"}


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "heldout", "task": "alpha", "draw": "heldout", "predictions": [0] * (N_TEST + 1)},
        {"kind": "heldout", "task": "alpha", "draw": "heldout", "predictions": [0] * N_TEST, "error": "x"},
        {"kind": "heldout", "task": "alpha", "draw": "heldout"},
        {"kind": "heldout", "task": "alpha", "draw": "main", "predictions": [0] * N_TEST},
        {"kind": "reproduce", "task": "alpha", "draw": "main", "predictions": [0] * N_TEST},
        {"kind": "generalization", "task": "alpha", "draw": "heldout", "predictions": [0] * N_TEST},
        {"kind": "heldout", "task": "beta", "draw": "heldout", "predictions": [0] * N_TEST},
        {"kind": "heldout", "task": "nope", "draw": "heldout", "predictions": [0] * N_TEST},
        {"kind": "heldout", "task": "alpha", "draw": "heldout", "seed": 2**40, "predictions": [0] * N_TEST},
        {
            "kind": "heldout",
            "task": "alpha",
            "draw": "heldout",
            "seconds": 10**400,
            "predictions": [0] * N_TEST,
        },
        {"kind": "heldout", "task": "alpha", "draw": "heldout", "seconds": -1, "predictions": [0] * N_TEST},
        {
            "kind": "heldout",
            "task": "alpha",
            "draw": "heldout",
            "predictions": [0] * N_TEST,
            "manifest": {"predictions_sha256": "0" * 64},
        },
        {
            "kind": "heldout",
            "task": "alpha",
            "draw": "heldout",
            "predictions": [0] * N_TEST,
            "manifest": {"seed": 10**400},
        },
        {
            "kind": "heldout",
            "task": "alpha",
            "draw": "heldout",
            "predictions": [0] * N_TEST,
            "manifest": {"x" * 65: 1},
        },
        {
            "kind": "heldout",
            "task": "alpha",
            "draw": "heldout",
            "predictions": [0] * N_TEST,
            "manifest": {f"k{i}": i for i in range(40)},
        },
        {
            "kind": "heldout",
            "task": "alpha",
            "draw": "heldout",
            "predictions": [0] * N_TEST,
            "manifest": {"extra": [[[[1]]]]},
        },
    ],
)
def test_bad_baseline_rechecks(raw: httpx.Client, team: Team, body: dict) -> None:
    headers = {"Authorization": f"Bearer {team.admin.token}"}
    refused(raw.post("/api/admin/rechecks", json={"subject": BASELINE, **body}, headers=headers), 404, 422)


def test_recheck_on_a_missing_draw_is_refused(tmp_path, task_root) -> None:  # noqa: ANN001
    import shutil

    from server_helpers import ServerProc

    tasks = tmp_path / "tasks"
    shutil.copytree(task_root / "alpha" / "main", tasks / "imported" / "main")
    srv = ServerProc(tmp_path / "run", tasks, ["--no-uds"]).start()
    try:
        admin = srv.client()
        assert admin.task("imported")["task"] == "alpha"  # an imported task still serves agents
        resp = httpx.post(
            srv.url + "/api/admin/rechecks",
            headers={"Authorization": f"Bearer {admin.token}"},
            json={
                "subject": {"baseline": "weak", "task": "imported"},
                "kind": "heldout",
                "task": "imported",
                "draw": "heldout",
                "predictions": [0] * N_TEST,
            },
        )
        assert resp.status_code == 422 and "no 'heldout' draw" in resp.json()["detail"]
    finally:
        srv.stop()


@pytest.mark.parametrize(
    "metrics",
    [
        '{"x": ' + "9" * 400 + "}",
        '{"x": -' + "9" * 400 + "}",
        '{"x": 1e308}',
        '{"x": 1e400}',
        '{"x": true}',
        '{"x": [1]}',
        '{"x": {"y": 1}}',
        "[" * 600 + "]" * 600,
    ],
)
def test_huge_or_deep_metrics(raw: httpx.Client, metrics: str) -> None:
    body = '{"type": "insight", "title": "t", "body": "b", "metrics": ' + metrics + "}"
    refused(raw.post("/api/findings", content=body, headers={"Content-Type": "application/json"}), 422)


@pytest.mark.parametrize(
    "manifest",
    [
        '"not an object"',
        '{"seed": ' + "9" * 400 + "}",
        '{"seed": -1}',
        '{"data_hash": "abc"}',
        '{"mode": "' + "m" * 5000 + '"}',
        '{"other": "' + "o" * 5000 + '"}',
        '{"other": 1e999}',
        '{"deep": ' + "[" * 300 + "]" * 300 + "}",
    ],
)
def test_bad_manifests(raw: httpx.Client, manifest: str) -> None:
    preds = ",".join(["0"] * N_TEST)
    body = f'{{"task": "alpha", "predictions": [{preds}], "manifest": {manifest}}}'
    refused(raw.post("/api/evaluate", content=body, headers={"Content-Type": "application/json"}), 422)


@pytest.mark.parametrize(
    "name",
    [
        "x" * 5000 + ".js",
        "a" * 255 + ".css",
        "%00.js",
        "..%2f..%2fetc%2fpasswd",
        "dashboard.js%00",
        "\u2603" * 2000,
    ],
)
def test_long_or_odd_static_names(server: ServerProc, name: str) -> None:
    resp = httpx.get(server.url + "/dashboard/static/" + name)
    assert resp.status_code == 404, (name[:40], resp.status_code)


@SETTINGS
@given(name=st.text(min_size=1, max_size=6000))
def test_static_names_never_500(server: ServerProc, name: str) -> None:
    resp = httpx.get(server.url + "/dashboard/static/" + quote(name, safe=""))
    assert resp.status_code < 500, (name[:40], resp.status_code)


def test_long_last_event_id(server: ServerProc, team: Team) -> None:
    resp = httpx.get(
        server.url + "/api/events",
        headers={"Authorization": f"Bearer {team.a.token}", "Last-Event-ID": "9" * 5000},
    )
    assert resp.status_code == 422


def test_nan_is_never_a_score(team: Team) -> None:
    r = team.a.evaluate("alpha", [0] * N_TEST, idea="zeros")
    assert all(isinstance(r[k], float) and math.isfinite(r[k]) for k in ("accuracy", "pgr"))


@SETTINGS
@given(
    path=st.sampled_from(
        [
            "/api/findings",
            "/api/submissions",
            "/api/snapshots",
            "/api/leaderboard",
            "/api/verifications",
            "/api/verified_leaderboard",
            "/api/verified_baselines",
            "/api/admin/probing",
            "/api/admin/rechecks",
            "/api/findings/{x}",
            "/api/admin/submissions/{x}/predictions",
            "/api/tasks/{x}",
            "/api/snapshots/{x}",
        ]
    ),
    params=st.dictionaries(
        st.sampled_from(["since", "limit", "type", "agent", "q", "task", "parent_id", "finding_id"]),
        st.one_of(
            st.integers(-(2**80), 2**80).map(str), st.text(max_size=20), st.text(min_size=900, max_size=3000)
        ),
        max_size=4,
    ),
    x=st.one_of(st.integers(-(2**80), 2**80).map(str), st.text(min_size=1, max_size=20)),
)
def test_bad_queries_never_500(raw: httpx.Client, team: Team, path: str, params: dict, x: str) -> None:
    url = path.replace("{x}", quote(x, safe=""))
    for headers in ({}, {"Authorization": f"Bearer {team.admin.token}"}):
        resp = raw.get(url, params=params, headers=headers)
        assert resp.status_code < 500, (url, params, resp.status_code, resp.text[:300])
