"""SIGKILL the server mid-burst; after restart every acknowledged write is there."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from server_helpers import N_TEST, ServerProc

from aarlab.client import AarClient, AarClientError


def test_acknowledged_writes_survive_sigkill(tmp_path: Path, task_root: Path) -> None:
    srv = ServerProc(tmp_path / "run", task_root, ["--budget", "100000"]).start()
    admin = srv.client()
    tokens = [admin.create_agent(f"burst-{i}")["token"] for i in range(4)]
    acked_subs: set[int] = set()
    acked_findings: set[int] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def burst(token: str, uds: bool) -> None:
        client = AarClient(uds=srv.uds, token=token) if uds else AarClient(srv.url, token=token)
        i = 0
        while not stop.is_set():
            i += 1
            try:
                sub = client.evaluate("alpha", [i % 2] * N_TEST, idea=f"burst-{i}")
                with lock:
                    acked_subs.add(sub["submission_id"])
                f = client.post_finding(type="hypothesis", title=f"burst finding {i}", body="x" * 200)
                with lock:
                    acked_findings.add(f["id"])
            except AarClientError:
                return  # the server died under us: anything not acknowledged may be lost
        client.close()

    threads = [threading.Thread(target=burst, args=(tok, i % 2 == 1)) for i, tok in enumerate(tokens)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    srv.kill()  # SIGKILL while the burst is in flight
    stop.set()
    for t in threads:
        t.join(30)
    assert len(acked_subs) > 20 and len(acked_findings) > 20, "the burst was too short to mean anything"

    srv.start()
    try:
        admin = srv.client()
        stored_subs = {s["submission_id"] for s in admin.submissions(limit=10_000)}
        stored_findings: set[int] = set()
        while page := admin.findings(since=max(stored_findings, default=0), limit=1000):
            stored_findings |= {f["id"] for f in page}
        assert acked_subs <= stored_subs, f"lost submissions: {sorted(acked_subs - stored_subs)[:10]}"
        assert acked_findings <= stored_findings, (
            f"lost findings: {sorted(acked_findings - stored_findings)[:10]}"
        )
        # the restarted server keeps working, and the old tokens still do
        assert AarClient(srv.url, token=tokens[0]).evaluate("alpha", [0] * N_TEST)["submission_id"] > max(
            acked_subs
        )
    finally:
        srv.stop()
