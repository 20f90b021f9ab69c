"""`aar zoo build`: pretrain the weak and strong model of every task, cached under `zoo_dir(size)`."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path

import torch
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from aar.paths import zoo_dir
from aar.tasks.build import corpus
from aar.tasks.common import NO, YES, rng_for
from aar.tasks.registry import KEYED_KNOWLEDGE, TASKS
from aar.tasks.secret import fingerprint, task_secret
from aar.tasks.sizes import size_spec
from aar.tasks.zoo.pretrain import encode_corpus, pretrain
from aar.tasks.zoo.tokenizer import make_tokenizer

ROLES = ("weak", "strong")
ZOO_FORMAT = 1


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


def zoo_ready(size: str = "full", tasks: Iterable[str] | None = None) -> bool:
    return all(_ready(model_dir(t, r, size), t) for t in (tasks or TASKS) for r in ROLES)


def build_zoo(size: str = "full", tasks: Iterable[str] | None = None, force: bool = False,
              quiet: bool = False, threads: int | None = None) -> Path:
    """Pretrain missing models (deterministic given size/task/role) and return the zoo root."""
    if threads:
        torch.set_num_threads(threads)
    spec = size_spec(size)
    todo = [(t, r) for t in (tasks or TASKS) for r in ROLES if force or not _ready(model_dir(t, r, size), t)]
    tok = make_tokenizer()
    columns = (TextColumn("[bold]{task.description}"), BarColumn(),
               TextColumn("{task.completed}/{task.total}"), TextColumn("loss {task.fields[loss]}"),
               TimeElapsedColumn())
    with Progress(*columns, disable=quiet) as progress:
        seqs_cache: dict[str, list[list[int]]] = {}
        for task, role in todo:
            mspec = spec.model_spec(task, role)
            if task not in seqs_cache:
                seqs_cache[task] = encode_corpus(corpus(task, size), tok)
            bar = progress.add_task(f"{task}/{role}", total=mspec.steps, loss="-")
            seed = rng_for("zoo", size, task, role).randrange(2**31)
            t0 = time.time()
            model, loss = pretrain(
                mspec, seqs_cache[task], tok, seed,
                on_step=lambda s, lv, b=bar: progress.update(b, completed=s + 1, loss=f"{lv:.3f}"),
            )
            out = model_dir(task, role, size)
            out.mkdir(parents=True, exist_ok=True)
            model.save_pretrained(out)
            tok.save_pretrained(out)
            meta = {
                "format": ZOO_FORMAT, "task": task, "role": role, "size": size,
                "params": sum(p.numel() for p in model.parameters()), "layers": mspec.layers,
                "d_model": mspec.d_model, "steps": mspec.steps, "final_loss": loss,
                "seconds": round(time.time() - t0, 2), "label_tokens": {"yes": YES, "no": NO},
                "secret": _secret_tag(task),
            }
            (out / "aar_zoo.json").write_text(json.dumps(meta, indent=1))
    return zoo_dir(size)
