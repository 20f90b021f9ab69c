"""Run every attempt inside a fresh sandbox with small limits and judge it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from aar.sandbox import Limits, Sandbox, SandboxSpec, make_sandbox, quota
from aar.sandbox.escape.attempts import attempts
from aar.sandbox.escape.context import Decoys, EscapeContext

SUITE_LIMITS = Limits(cpu_seconds=20, memory_mb=256, max_procs=64, wall_seconds=3.0, disk_mb=8, tmp_mb=16)


@dataclass
class AttemptResult:
    name: str
    what: str
    blocked: bool
    detail: str
    seconds: float

    def to_dict(self) -> dict:
        return asdict(self)


def run_escape_suite(
    kind: str = "bwrap", base: Path | None = None, only: list[str] | None = None, allow_unsafe: bool = False
) -> list[AttemptResult]:
    out: list[AttemptResult] = []
    with Decoys(base) as ctx:
        spec = SandboxSpec(ctx.workspace, [ctx.public], None, SUITE_LIMITS)
        hard = kind == "bwrap" and quota.available()
        with make_sandbox(kind, spec, allow_unsafe=allow_unsafe, hard_disk_quota=hard) as sb:
            out = _run_all(sb, ctx, only)
    return out


def _run_all(sb: Sandbox, ctx: EscapeContext, only: list[str] | None) -> list[AttemptResult]:
    out: list[AttemptResult] = []
    for a in attempts():
        if only and a.name not in only:
            continue
        ctx.accepted.clear()
        res = sb.run(a.command(ctx), timeout=a.timeout)
        text = res.stdout + res.stderr
        why = None
        if ctx.secret in text:
            why = "the secret appeared in the output"
        elif "ESCAPED" in res.stdout:
            why = "the attempt reported success"
        elif a.judge is not None:
            why = a.judge(ctx, res)
        detail = why or _summary(res)
        out.append(AttemptResult(a.name, a.what, why is None, detail, round(res.seconds, 3)))
    return out


def _summary(res) -> str:  # noqa: ANN001
    if res.killed_reason:
        return f"killed: {res.killed_reason}"
    tail = (res.stderr.strip() or res.stdout.strip()).splitlines()
    return f"exit {res.returncode}" + (f": {tail[-1][:160]}" if tail else "")
