"""`AarClient`: a thin, typed wrapper over the server's HTTP API (docs/contracts.md)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
from pydantic_core import to_json

from aarlab.client import snapshots

JSON_HEADERS = {"Content-Type": "application/json"}


class AarClientError(Exception):
    """The server answered with an error (`status` >= 400), or could not be reached (`status` 0)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class AarClient:
    def __init__(
        self, url: str | None = None, *, uds: str | None = None, token: str, timeout: float = 60.0
    ) -> None:
        if not url and not uds:
            raise ValueError("AarClient needs a url or a uds (Unix socket path)")
        transport = httpx.HTTPTransport(uds=uds) if uds else None
        self.url, self.uds, self.token = url, uds, token
        self.last_event_id: str | None = None
        self._http = httpx.Client(
            base_url=(url or "http://aar").rstrip("/"),
            transport=transport,
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
        )

    @classmethod
    def from_env(cls) -> AarClient:
        """From AAR_SERVER_UDS or AAR_SERVER_URL, and AAR_AGENT_TOKEN (what a sandbox is given)."""
        token = os.environ.get("AAR_AGENT_TOKEN")
        if not token:
            raise AarClientError(0, "AAR_AGENT_TOKEN is not set")
        uds, url = os.environ.get("AAR_SERVER_UDS"), os.environ.get("AAR_SERVER_URL")
        if not uds and not url:
            raise AarClientError(0, "neither AAR_SERVER_UDS nor AAR_SERVER_URL is set")
        return cls(url, uds=uds, token=token)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AarClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            resp = self._http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise AarClientError(0, f"cannot reach the server: {exc}") from exc
        if resp.status_code >= 400:
            try:
                detail = resp.json().get("detail", resp.text)
            except (ValueError, AttributeError):
                detail = resp.text
            raise AarClientError(resp.status_code, detail if isinstance(detail, str) else json.dumps(detail))
        return resp

    def _json(self, method: str, path: str, **kw: Any) -> Any:
        return self._request(method, path, **kw).json()

    @staticmethod
    def _params(**kw: Any) -> dict[str, Any]:
        return {k: v for k, v in kw.items() if v is not None}

    # identity and agents
    def health(self) -> dict:
        return self._json("GET", "/api/health")

    def me(self) -> dict:
        return self._json("GET", "/api/me")

    def create_agent(self, name: str, direction: str | None = None) -> dict:
        return self._json("POST", "/api/admin/agents", json=self._params(name=name, direction=direction))

    def agent_token(self, name: str) -> dict:
        """Admin: a fresh token for an existing agent (`{"agent_id", "name", "token"}`)."""
        return self._json("POST", f"/api/admin/agents/{name}/tokens")

    def agents(self) -> list[dict]:
        return self._json("GET", "/api/agents")

    # tasks and scoring
    def tasks(self) -> list[dict]:
        return self._json("GET", "/api/tasks")

    def task(self, name: str) -> dict:
        return self._json("GET", f"/api/tasks/{name}")

    def evaluate(
        self,
        task: str,
        predictions: Sequence[int],
        *,
        split: str = "test",
        idea: str | None = None,
        snapshot_id: str | None = None,
        manifest: dict | None = None,
    ) -> dict:
        """Score predictions; agents get the public half's accuracy and PGR (keyed noise, 2 decimals).
        `manifest`: the run's manifest.json (stored with the submission; predictions_sha256 is checked)."""
        body = self._params(task=task, split=split, idea=idea, snapshot_id=snapshot_id, manifest=manifest)
        tolist = getattr(predictions, "tolist", None)  # numpy arrays
        body["predictions"] = list(map(int, tolist() if tolist else predictions))
        return self._json("POST", "/api/evaluate", content=to_json(body), headers=JSON_HEADERS)

    def submissions(self, **filters: Any) -> list[dict]:
        return self._json("GET", "/api/submissions", params=self._params(**filters))

    def submission_predictions(self, submission_id: int) -> dict:
        """Admin: the stored predictions of a submission."""
        return self._json("GET", f"/api/admin/submissions/{submission_id}/predictions")

    # code store
    def upload_snapshot(self, folder: str | Path) -> str:
        return self.upload_snapshot_bytes(snapshots.pack(folder))["snapshot_id"]

    def upload_snapshot_bytes(self, data: bytes) -> dict:
        return self._json(
            "POST", "/api/snapshots", content=data, headers={"Content-Type": "application/gzip"}
        )

    def snapshot_bytes(self, snapshot_id: str) -> bytes:
        """The snapshot's tar.gz as stored (read it without unpacking, e.g. `aar.methods.snapshot_files`)."""
        return self._request("GET", f"/api/snapshots/{snapshot_id}").content

    def download_snapshot(self, snapshot_id: str, dest_dir: str | Path) -> Path:
        return snapshots.unpack(self.snapshot_bytes(snapshot_id), dest_dir)

    def snapshots(self, **filters: Any) -> list[dict]:
        return self._json("GET", "/api/snapshots", params=self._params(**filters))

    # forum
    def post_finding(self, **fields: Any) -> dict:
        return self._json("POST", "/api/findings", json=self._params(**fields))

    def findings(self, **filters: Any) -> list[dict]:
        return self._json("GET", "/api/findings", params=self._params(**filters))

    def finding(self, finding_id: int) -> dict:
        return self._json("GET", f"/api/findings/{finding_id}")

    def leaderboard(self, task: str | None = None) -> list[dict]:
        return self._json("GET", "/api/leaderboard", params=self._params(task=task))

    # verification (the server scores and judges; the overseer hands it re-run predictions)
    def post_recheck(
        self,
        subject: dict,
        kind: str,
        task: str,
        draw: str,
        seed: int = 0,
        predictions: Sequence[int] | None = None,
        error: str | None = None,
        manifest: dict | None = None,
        seconds: float | None = None,
    ) -> dict:
        """Admin: record one re-check run of `subject` ({"finding_id": N} or {"baseline": name, "task": t});
        returns {"recheck_id", "accuracy", "pgr", "n", "agreement"} (scored on the whole test split)."""
        body: dict[str, Any] = self._params(
            subject=subject,
            kind=kind,
            task=task,
            draw=draw,
            seed=seed,
            error=error,
            manifest=manifest,
            seconds=seconds,
        )
        if predictions is not None:
            tolist = getattr(predictions, "tolist", None)
            body["predictions"] = list(map(int, tolist() if tolist else predictions))
        return self._json("POST", "/api/admin/rechecks", content=to_json(body), headers=JSON_HEADERS)

    def rechecks(self, **filters: Any) -> list[dict]:
        """Admin: recorded re-check runs (`finding_id=` or `baseline=` and `task=`, `since=`, `limit=`)."""
        return self._json("GET", "/api/admin/rechecks", params=self._params(**filters))

    def close_verification(
        self, subject: dict, screened: bool = False, note: str | None = None, dry_run: bool = False
    ) -> dict:
        """Admin: judge `subject` from its re-checks by the server's rules; returns the verification row
        (`dry_run`: the row it would get, nothing stored)."""
        body = self._params(subject=subject, screened=screened, note=note, dry_run=dry_run or None)
        return self._json("POST", "/api/admin/verifications/close", json=body)

    def verifications(self, **filters: Any) -> list[dict]:
        return self._json("GET", "/api/verifications", params=self._params(**filters))

    def verified_leaderboard(self, task: str | None = None) -> list[dict]:
        return self._json("GET", "/api/verified_leaderboard", params=self._params(task=task))

    def verified_baselines(self, task: str | None = None) -> list[dict]:
        return self._json("GET", "/api/verified_baselines", params=self._params(task=task))

    def probing(self) -> list[dict]:
        """Admin: the probing detector's flags (agent, task, signatures, details)."""
        return self._json("GET", "/api/admin/probing")

    # events
    def events(
        self, timeout: float | None = None, last_event_id: str | None = None
    ) -> Iterator[tuple[str, dict]]:
        """Yield `(event, data)` from the server-sent event stream (blocks; stop by breaking out).

        `self.last_event_id` follows the stream; pass it back as `last_event_id` after a reconnect to get
        what was missed (or a `reset` event: refetch over REST)."""
        headers = {"Last-Event-ID": last_event_id} if last_event_id else None
        try:
            with self._http.stream("GET", "/api/events", timeout=timeout, headers=headers) as resp:
                if resp.status_code >= 400:
                    resp.read()
                    raise AarClientError(resp.status_code, resp.text)
                event, data, ev_id = "message", [], None
                for line in resp.iter_lines():
                    if line.startswith(":"):
                        continue
                    if not line:
                        if ev_id is not None:
                            self.last_event_id = ev_id
                        if data:
                            yield event, json.loads("\n".join(data))
                        event, data, ev_id = "message", [], None
                    elif line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].strip())
                    elif line.startswith("id:"):
                        ev_id = line[3:].strip()
        except httpx.HTTPError as exc:
            raise AarClientError(0, f"event stream failed: {exc}") from exc
