"""`aar zoo build`: pretrain the weak and strong model of every task, cached under `zoo_dir(size)`.

`train_task_models` trains one task's models in the calling process; it is what the worker process
`python -m aar.tasks.zoo.worker` runs, with the fixed numerics of `aar.tasks.numerics`. `build_zoo`
runs one such worker per task, in parallel (`aar.tasks.schedule`), so every caller gets the same weights.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from aar.paths import zoo_dir
from aar.tasks.registry import KEYED_KNOWLEDGE, TASKS
from aar.tasks.secret import fingerprint, task_secret

ROLES = ("weak", "strong")
ZOO_FORMAT = 1

Emit = Callable[..., None]


def model_dir(task: str, role: str, size: str = "full") -> Path:
    return zoo_dir(size) / task / role


def _secret_tag(task: str) -> str | None:
    """Models of tasks whose facts are keyed by the task secret remember which secret they learned."""
    return fingerprint(task_secret(create=True)) if task in KEYED_KNOWLEDGE else None


def _ready(path: Path, task: str) -> bool:
    marker = path / "aar_zoo.json"
    if not marker.exists():
        return False
    meta = json.loads(marker.read_text())
    return meta.get("format") == ZOO_FORMAT and meta.get("secret") == _secret_tag(task)


def model_ready(task: str, role: str, size: str = "full") -> bool:
    return _ready(model_dir(task, role, size), task)


def zoo_ready(size: str = "full", tasks: Iterable[str] | None = None) -> bool:
    return all(model_ready(t, r, size) for t in (tasks or TASKS) for r in ROLES)


def missing_roles(task: str, size: str, force: bool = False) -> list[str]:
    """The models of `task` to (re)train, in order; `blank` (the knowledge-removed strong model of
    `aar.tasks.zoo.blank`) comes after the strong model it mirrors."""
    from aar.tasks.zoo.blank import ROLE as BLANK
    from aar.tasks.zoo.blank import blank_ready

    roles = [r for r in ROLES if force or not model_ready(task, r, size)]
    if force or "strong" in roles or not blank_ready(task, size):
        roles.append(BLANK)
    return roles


def train_task_models(size: str, task: str, roles: Iterable[str], emit: Emit | None = None) -> None:
    """Pretrain `roles` of `task` in this process (deterministic given size/task/role and the numerics)."""
    from aar.tasks.build import corpus
    from aar.tasks.common import NO, YES, rng_for
    from aar.tasks.numerics import numerics_tag
    from aar.tasks.sizes import size_spec
    from aar.tasks.zoo.pretrain import encode_corpus, pretrain
    from aar.tasks.zoo.tokenizer import make_tokenizer

    emit = emit or (lambda **_: None)
    roles = list(roles)
    if not roles:
        return
    spec = size_spec(size)
    tok = make_tokenizer()
    seqs = None
    if any(r != "blank" for r in roles):  # the blank model builds its own corpus
        emit(stage="corpus", steps=0)
        seqs = encode_corpus(corpus(task, size), tok)
        emit(done="corpus")
    for role in roles:
        if role == "blank":
            from aar.tasks.zoo.blank import blank_steps, build_blank

            n = blank_steps(task, size)
            emit(stage="blank model", steps=n)
            last_b = [0.0]

            def on_blank(step: int, loss: float, _last: list[float] = last_b, _n: int = n) -> None:
                now = time.time()
                if now - _last[0] >= 0.5 or step + 1 == _n:
                    _last[0] = now
                    emit(step=step + 1, loss=round(loss, 4))

            build_blank(task, size, force=True, on_step=on_blank)
            emit(done="blank model")
            continue
        mspec = spec.model_spec(task, role)
        stage = f"{role} model"
        emit(stage=stage, steps=mspec.steps)
        seed = rng_for("zoo", size, task, role).randrange(2**31)
        t0 = time.time()
        last = [0.0]

        def on_step(step: int, loss: float, _last: list[float] = last, _n: int = mspec.steps) -> None:
            now = time.time()
            if now - _last[0] >= 0.5 or step + 1 == _n:
                _last[0] = now
                emit(step=step + 1, loss=round(loss, 4))

        assert seqs is not None
        model, loss = pretrain(mspec, seqs, tok, seed, on_step=on_step)
        out = model_dir(task, role, size)
        out.mkdir(parents=True, exist_ok=True)
        (out / "aar_zoo.json").unlink(missing_ok=True)  # the marker goes last: a killed build is not "ready"
        model.save_pretrained(out)
        tok.save_pretrained(out)
        meta = {
            "format": ZOO_FORMAT, "task": task, "role": role, "size": size,
            "params": sum(p.numel() for p in model.parameters()), "layers": mspec.layers,
            "d_model": mspec.d_model, "steps": mspec.steps, "final_loss": loss,
            "seconds": round(time.time() - t0, 2), "label_tokens": {"yes": YES, "no": NO},
            "secret": _secret_tag(task), "numerics": numerics_tag(),
        }
        tmp = out / "aar_zoo.json.tmp"
        tmp.write_text(json.dumps(meta, indent=1))
        tmp.replace(out / "aar_zoo.json")
        del model
        emit(done=stage, seconds=meta["seconds"])


def build_zoo(size: str = "full", tasks: Iterable[str] | None = None, force: bool = False,
              quiet: bool = False, jobs: int | None = None) -> Path:
    """Pretrain missing models, one worker process per task (at most `jobs` at once); return the zoo root."""
    from aar.tasks.schedule import Build

    Build(size, tuple(tasks or TASKS), zoo_only=True, force_zoo=force, jobs=jobs).run(quiet=quiet)
    return zoo_dir(size)
