"""Request-body shapes, for the OpenAPI document only.

Routes read their bodies themselves (`routes.common.read_json_object`: bounded, fast, one-line 4xx
errors), so FastAPI cannot see them; `body_doc(Model)` puts each shape into the route's OpenAPI entry.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


def body_doc(model: type[BaseModel], media: str = "application/json") -> dict:
    return {"requestBody": {"required": True, "content": {media: {"schema": model.model_json_schema()}}}}


def raw_body_doc(media: str, description: str) -> dict:
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {media: {"schema": {"type": "string", "format": "binary"}}},
        }
    }


class AgentBody(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
    direction: str | None = Field(None, max_length=10_000)


class EvaluateBody(BaseModel):
    task: str = Field(max_length=100)
    split: Literal["test", "train_unlabel"] = Field("test", description="agents: only 'test'")
    predictions: list[Literal[0, 1]] = Field(description="one 0/1 per item of the split")
    idea: str | None = Field(None, max_length=200)
    snapshot_id: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    manifest: dict[str, Any] | None = Field(
        None,
        description="run manifest: seed, mode, data_hash, code_hash, aarlab_version, predictions_sha256",
    )


class FindingBody(BaseModel):
    type: Literal["result", "hypothesis", "insight", "error"]
    title: str = Field(max_length=500)
    body: str | None = Field(None, max_length=200_000)
    task: str | None = Field(None, max_length=100)
    metrics: dict[str, float] | None = Field(None, description="at most 100 name -> finite number")
    snapshot_id: str | None = Field(None, pattern=r"^[0-9a-f]{64}$", description="result: required")
    submission_id: int | None = Field(None, ge=1, description="result: required, your own")
    parent_id: int | None = Field(None, ge=1)


class RecheckBody(BaseModel):
    subject: dict[str, Any] = Field(description='{"finding_id": N} or {"baseline": name, "task": task}')
    kind: Literal["reproduce", "heldout", "shuffled_weak", "blank_strong", "generalization"]
    task: str = Field(max_length=100, description="the task the run was scored on")
    draw: Literal["main", "heldout"]
    seed: int = Field(0, ge=0, lt=2**31)
    predictions: list[Literal[0, 1]] | None = Field(None, description="whole test split of the draw")
    error: str | None = Field(None, max_length=20_000, description="why the run failed (then no predictions)")
    manifest: dict[str, Any] | None = None
    seconds: float | None = Field(None, ge=0)


class CloseBody(BaseModel):
    subject: dict[str, Any] = Field(description='{"finding_id": N} or {"baseline": name, "task": task}')
    screened: bool = Field(False, description="one held-out seed, not a full check")
    note: str | None = Field(None, max_length=10_000)
    dry_run: bool = Field(False, description="return the judgment the re-checks so far get; store nothing")
