"""The run manifest (`aarlab.w2s.run_idea` writes it next to predictions.json): validated, bounded shape."""

from __future__ import annotations

import re

from fastapi import HTTPException

from aar.server.routes.common import finite

SHA256 = re.compile(r"^[0-9a-f]{64}$")
HASH_FIELDS = ("data_hash", "code_hash", "predictions_sha256")
MAX_EXTRA = 16  # fields beyond the documented ones, each a short scalar


def parse_manifest(raw: object, field_name: str = "manifest") -> dict | None:
    """The manifest as stored, or None; 422 with a one-line reason for anything malformed."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise HTTPException(422, f"'{field_name}' must be an object")
    if len(raw) > len(HASH_FIELDS) + 3 + MAX_EXTRA:
        raise HTTPException(422, f"'{field_name}' has too many fields")
    out: dict = {}
    for key, val in raw.items():
        if not isinstance(key, str) or not 0 < len(key) <= 64:
            raise HTTPException(422, f"'{field_name}' field names must be strings of 1-64 characters")
        where = f"'{field_name}.{key}'"
        if key in HASH_FIELDS:
            if not isinstance(val, str) or not SHA256.match(val):
                raise HTTPException(422, f"{where} must be a 64-character lowercase sha256 hex digest")
        elif key == "seed":
            if type(val) is not int or not 0 <= val < 2**31:
                raise HTTPException(422, f"{where} must be an integer in [0, 2^31)")
        elif key in ("mode", "aarlab_version"):
            if not isinstance(val, str) or not 0 < len(val) <= 64 or "\x00" in val:
                raise HTTPException(422, f"{where} must be a string of 1-64 characters")
        elif val is not None and not isinstance(val, bool):
            if isinstance(val, str):
                if len(val) > 200 or "\x00" in val:
                    raise HTTPException(422, f"{where} must be at most 200 characters")
            elif finite(val) is None:
                raise HTTPException(422, f"{where} must be a short string, a finite number, a bool or null")
        out[key] = val
    return out


def check_predictions(manifest: dict | None, digest: str, field_name: str = "manifest") -> None:
    claimed = (manifest or {}).get("predictions_sha256")
    if claimed is not None and claimed != digest:
        raise HTTPException(
            422, f"'{field_name}.predictions_sha256' does not match the predictions sent (sha256 {digest})"
        )
