"""Strong models with the task's knowledge removed, for the overseer's `solver` check.

A blank model has the strong model's exact shape, tokenizer and metadata files, but was pretrained on
the task corpus with the characters of every line shuffled: it has seen the same characters at the
same rates and line lengths, and none of the arithmetic, programs or facts. Put behind the strong
model's neutral path (`/aar/models/strong`), it lets the overseer ask whether a method still beats the
weak supervisor without the strong model's knowledge — if it does, it reads the answer from the text.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from aar.tasks.build import corpus
from aar.tasks.common import rng_for
from aar.tasks.secret import task_secret
from aar.tasks.sizes import size_spec
from aar.tasks.zoo.build import model_dir
from aar.tasks.zoo.pretrain import encode_corpus, pretrain
from aar.tasks.zoo.tokenizer import make_tokenizer

ROLE = "blank"
STEPS_FRACTION = 0.25  # enough training for plausible weights; knowledge is absent whatever the length


def blank_dir(task: str, size: str) -> Path:
    return model_dir(task, ROLE, size)


def marker(task: str, size: str) -> Path:
    """Beside the blank model's folder, never in it: the folder is what a re-run sees."""
    return blank_dir(task, size).parent / f"{ROLE}.json"


def blank_ready(task: str, size: str) -> bool:
    m, strong = marker(task, size), model_dir(task, "strong", size) / "aar_zoo.json"
    if not m.is_file() or not strong.is_file() or not blank_dir(task, size).is_dir():
        return False
    return json.loads(m.read_text()).get("strong_meta") == json.loads(strong.read_text())


def shuffled_corpus(task: str, size: str) -> list[str]:
    rng = rng_for("zoo", size, task, ROLE, "shuffle")
    out = []
    for line in corpus(task, size, task_secret(create=True)):
        chars = list(line)
        rng.shuffle(chars)
        out.append("".join(chars))
    return out


def blank_steps(task: str, size: str) -> int:
    return max(1, int(size_spec(size).model_spec(task, "strong").steps * STEPS_FRACTION))


def build_blank(task: str, size: str, force: bool = False,
                on_step: Callable[[int, float], None] | None = None) -> Path:
    """Pretrain the blank model of `task` (after its strong model) unless it is ready."""
    d = blank_dir(task, size)
    if blank_ready(task, size) and not force:
        return d
    strong = model_dir(task, "strong", size)
    strong_meta = json.loads((strong / "aar_zoo.json").read_text())
    spec = size_spec(size).model_spec(task, "strong")
    steps = blank_steps(task, size)
    tok = make_tokenizer()
    seed = rng_for("zoo", size, task, ROLE).randrange(2**31)
    seqs = encode_corpus(shuffled_corpus(task, size), tok)
    model, _ = pretrain(replace(spec, steps=steps), seqs, tok, seed, on_step=on_step)
    marker(task, size).unlink(missing_ok=True)  # the marker goes last: a killed build is not "ready"
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    model.save_pretrained(d)
    tok.save_pretrained(d)
    # what an idea can read besides the weights is the strong model's: metadata byte for byte, the same
    # file names, sizes and modification times
    shutil.copyfile(strong / "aar_zoo.json", d / "aar_zoo.json")
    for f in d.iterdir():
        twin = strong / f.name
        if twin.is_file():
            st = twin.stat()
            os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    marker(task, size).write_text(json.dumps({"task": task, "size": size, "steps": steps,
                                              "strong_meta": strong_meta}))
    return d
