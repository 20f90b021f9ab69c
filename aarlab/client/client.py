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

    def download_snapshot(self, snapshot_id: str, dest_dir: str | Path) -> Path:
        data = self._request("GET", f"/api/snapshots/{snapshot_id}").content
        return snapshots.unpack(data, dest_dir)

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

    # overseer
    def post_verification(self, **fields: Any) -> dict:
        """Admin: record an overseer verification of a finding."""
        return self._json("POST", "/api/admin/verifications", json=fields)

    def verifications(self, **filters: Any) -> list[dict]:
        return self._json("GET", "/api/verifications", params=self._params(**filters))

    # events
    def events(self, timeout: float | None = None) -> Iterator[tuple[str, dict]]:
        """Yield `(event, data)` from the server-sent event stream (blocks; stop by breaking out)."""
        try:
            with self._http.stream("GET", "/api/events", timeout=timeout) as resp:
                if resp.status_code >= 400:
                    resp.read()
                    raise AarClientError(resp.status_code, resp.text)
                event, data = "message", []
                for line in resp.iter_lines():
                    if line.startswith(":"):
                        continue
                    if not line:
                        if data:
                            yield event, json.loads("\n".join(data))
                        event, data = "message", []
                    elif line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].strip())
        except httpx.HTTPError as exc:
            raise AarClientError(0, f"event stream failed: {exc}") from exc
