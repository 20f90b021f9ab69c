"""Client behaviour that needs no server: configuration errors and unreachable servers."""

from __future__ import annotations

from pathlib import Path

import pytest

from aarlab.client import AarClient, AarClientError


def test_needs_an_address() -> None:
    with pytest.raises(ValueError):
        AarClient(token="t")


def test_unreachable_server_is_a_client_error(tmp_path: Path) -> None:
    with AarClient(uds=str(tmp_path / "nothing.sock"), token="t", timeout=2) as c:
        with pytest.raises(AarClientError) as err:
            c.health()
    assert err.value.status == 0


def test_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AAR_AGENT_TOKEN", raising=False)
    with pytest.raises(AarClientError):
        AarClient.from_env()
    monkeypatch.setenv("AAR_AGENT_TOKEN", "tok")
    monkeypatch.setenv("AAR_SERVER_UDS", str(tmp_path / "s.sock"))
    c = AarClient.from_env()
    assert c.uds == str(tmp_path / "s.sock") and c.token == "tok"
    c.close()
