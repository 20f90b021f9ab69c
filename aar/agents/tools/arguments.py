"""Check a tool call's arguments against the tool's JSON schema: one clear line per refusal."""

from __future__ import annotations

from functools import cache

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from aar.agents.tools.types import ToolError, ToolSpec


@cache
def _validator(name: str) -> Draft202012Validator:
    from aar.agents.tools.specs import BY_NAME

    return Draft202012Validator(BY_NAME[name].input_schema)


def check_arguments(spec: ToolSpec, args: dict) -> None:
    """Raise ToolError naming unknown arguments (with the known ones), or the first invalid one."""
    props = spec.input_schema.get("properties", {})
    unknown = sorted(set(args) - set(props))
    if unknown:
        known = ", ".join(props) or "no arguments"
        names = ", ".join(map(repr, unknown))
        raise ToolError(f"unknown argument(s) {names} for {spec.name}; it takes: {known}")
    error = best_match(_validator(spec.name).iter_errors(args))
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path)
        raise ToolError(f"invalid arguments for {spec.name}: {where + ': ' if where else ''}{error.message}")
