"""The overseer's view of the server through `AarClient`: admin reads, verifications, and posts as the
built-in `overseer` agent."""

from __future__ import annotations

from pathlib import Path

from aarlab.client import AarClient
from aarlab.client.client import AarClientError

ApiError = AarClientError


class OverseerApi:
    def __init__(
        self,
        *,
        url: str | None = None,
        uds: str | None = None,
        admin_token: str,
        overseer_token: str | None = None,
        timeout: float = 120.0,
    ):
        self.url, self.uds, self.timeout = url, uds, timeout
        self.admin = AarClient(url, uds=uds, token=admin_token, timeout=timeout)
        self.as_overseer = (
            AarClient(url, uds=uds, token=overseer_token, timeout=timeout) if overseer_token else None
        )

    def close(self) -> None:
        self.admin.close()
        if self.as_overseer is not None:
            self.as_overseer.close()

    def finding(self, finding_id: int) -> dict:
        return self.admin.finding(finding_id)

    def findings(self, since: int = 0, **filters: object) -> list[dict]:
        out: list[dict] = []
        while True:
            page = self.admin.findings(since=since, limit=1000, **filters)
            out += page
            if len(page) < 1000:
                return out
            since = int(page[-1]["id"])

    def submissions(self, since: int = 0, **filters: object) -> list[dict]:
        out: list[dict] = []
        while True:
            page = self.admin.submissions(since=since, limit=10_000, **filters)
            out += page
            if len(page) < 10_000:
                return out
            since = int(page[-1]["submission_id"])

    def predictions(self, submission_id: int) -> list[int]:
        return [int(x) for x in self.admin.submission_predictions(submission_id)["predictions"]]

    def submission(self, submission_id: int) -> dict | None:
        """The server's record of a submission (scores it showed, manifest), or None."""
        rows = self.admin.submissions(since=submission_id - 1, limit=1)
        return rows[0] if rows and int(rows[0]["submission_id"]) == submission_id else None

    def verifications(self) -> list[dict]:
        return self.admin.verifications(limit=10_000)

    def post_recheck(self, **fields: object) -> dict:
        return self.admin.post_recheck(**fields)  # type: ignore[arg-type]

    def close_verification(self, subject: dict, screened: bool = False, note: str | None = None) -> dict:
        return self.admin.close_verification(subject, screened=screened, note=note)

    def judge(self, subject: dict) -> dict:
        """The verification `subject`'s re-checks so far would get (status, PGR, flags); not stored."""
        return self.admin.close_verification(subject, dry_run=True)

    def rechecks(self, subject: dict) -> list[dict]:
        """The re-check runs the server has recorded for `subject` (a resumed check posts none twice)."""
        return self.admin.rechecks(**subject, limit=10_000)

    def probing_flags(self) -> list[dict]:
        return self.admin.probing()

    @staticmethod
    def read_manifest(path: Path) -> dict | None:
        """A run's manifest.json when the runner wrote one (it is the sandbox's output: shape checked by the
        server)."""
        import json

        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return doc if isinstance(doc, dict) else None

    def post_insight(self, **fields: object) -> dict:
        if self.as_overseer is None:
            token = self.admin.create_agent("overseer")["token"]  # the server re-issues the built-in's token
            self.as_overseer = AarClient(self.url, uds=self.uds, token=token, timeout=self.timeout)
        return self.as_overseer.post_finding(type="insight", **fields)

    def download_snapshot(self, snapshot_id: str, dest: Path) -> Path:
        dest.mkdir(parents=True, exist_ok=True)
        self.admin.download_snapshot(snapshot_id, dest)  # refuses absolute paths, '..', links, devices
        return dest
