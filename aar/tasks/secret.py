"""The per-install task secret: every private part of a task derives from it.

Which items land in `train_unlabel` and `test` of each draw, their labels, the public/private
halves of `test` and the world task's facts are drawn from random streams keyed by HMAC-SHA256 of
this secret, one stream per item. The secret is created at the first `aar w2s prepare`
(`$AAR_CACHE/secret/task_secret`, mode 0600 in a 0700 folder) and no sandbox mounts it, so the
library and the source code an agent can read are not enough to rebuild a label.
`AAR_TASK_SECRET` overrides it (reproducible benchmarks and tests).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import random
import secrets
from pathlib import Path

from aar.paths import secret_dir

ENV = "AAR_TASK_SECRET"


class SecretMissing(RuntimeError):
    """No task secret exists yet (and creating one was not asked for)."""


def secret_path() -> Path:
    return secret_dir() / "task_secret"


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_hex(32) + "\n")


def task_secret(create: bool = False) -> bytes:
    """The secret (`AAR_TASK_SECRET` if set, else the install's file; created on demand with `create`)."""
    env = os.environ.get(ENV)
    if env:
        return env.encode()
    path = secret_path()
    if not path.exists():
        if not create:
            raise SecretMissing(f"no task secret at {path}: `aar w2s prepare` creates one (or set {ENV})")
        _create(path)
    return _read(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _read(path: Path, _mtime: int) -> bytes:
    value = path.read_text().strip().encode()
    if not value:
        raise SecretMissing(f"{path} is empty")
    return value


def derive(*parts: object, secret: bytes | None = None) -> bytes:
    """HMAC-SHA256 of `parts` under the secret."""
    key = secret if secret is not None else task_secret()
    return hmac.new(key, "/".join(str(p) for p in parts).encode(), hashlib.sha256).digest()


def keyed_rng(*parts: object, secret: bytes | None = None) -> random.Random:
    """A random.Random seeded with all 256 bits of `derive(parts)`: its outputs say nothing about other
    streams, and observing them cannot recover the seed."""
    return random.Random(int.from_bytes(derive(*parts, secret=secret), "big"))


def fingerprint(secret: bytes | None = None) -> str:
    """A public tag of the secret (HMAC of a constant): tells caches built under different secrets apart."""
    return derive("aar-task-secret-fingerprint", secret=secret).hex()[:16]
