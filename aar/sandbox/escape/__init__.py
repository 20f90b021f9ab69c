"""The escape suite: real attempts to get out of a sandbox, each judged blocked or escaped."""

from aar.sandbox.escape.suite import AttemptResult, run_escape_suite

__all__ = ["AttemptResult", "run_escape_suite"]
