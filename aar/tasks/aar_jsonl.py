"""Import the published AAR weak-to-strong data (safety-research/automated-w2s-research) as an aar task.

That release has one directory per dataset (`chat`, `math`, `code`), each holding `train_label.jsonl`,
`train_unlabel.jsonl` and `test.jsonl` (the *labeled* copies, `labeled_data/<dataset>/`; its
`scripts/prepare_data.py` strips `label`, `subset` and `difficulty` for agents, so import from
`labeled_data`). Rows come in two shapes, both read here:

- binary ("is this answer correct?", math/code): `question`, `choice`, `label` (bool or 0/1);
- comparison ("which answer is better?", chat): `prompt`, `first`, `second`, `label` ("A"/"B" or 0/1),
  rendered as the claim "Answer B is better than Answer A", true iff the label is B / 1.

Other layouts are accepted when they carry a text (`text`, or a question-like field `question` /
`prompt` / `input` / `problem` plus an answer-like field `choice` / `answer` / `response` / `output` /
`completion`) and a label (`label` / `gt_label` / `is_correct` / `correct`); anything else fails with
an error naming the fields found.

**Metadata.** Every other scalar field of a row (`subset`, `difficulty`, ...) is kept as private per-item
metadata, `<draw>/private/item_meta.json` `{"train_unlabel": [{...}, ...], "test": [{...}, ...]}`, never
in a public file: like the release's own agent copy, agents see only `id` and `text` (and `train_label`'s
labels). The grader reports test accuracy per `subset` (the reference's in- vs out-of-distribution
split) to the admin and the report only, since a subset tag that correlates with the labels would be
label information.

**The held-out draw (carving rule).** The release has one draw; the overseer needs data no agent has
seen. So the importer splits the published pool: `train_label` is shared by both draws (as for the
built-in tasks), and each of `train_unlabel` and `test` is split into `main` and `heldout`. Within each
stratum of a split (items with the same `subset`, or all items when there is none) the item order is
shuffled by a stream keyed by the install's task secret and the dataset's content hash
(`keyed_rng("aar_jsonl", "carve", <sha256 of the three files>, split, subset)`), and the first
`round(heldout_fraction * stratum size)` items go to `heldout` (default 0.25); the rest stay in `main`,
in the published order. So both draws keep the subset mix of the release; the same data under the same
secret always carves the same way, whatever the task is called; and without the secret nobody can tell
which published items are held out. Each draw's `test` has its own keyed public/private half.

The result is the task layout of docs/contracts.md, both draws:
`<out>/<name>/<draw>/public/{meta.json, train_label.jsonl, train_unlabel.jsonl, test.jsonl}` and
`<out>/<name>/<draw>/private/{labels.json, test_public_mask.json, item_meta.json}`. `import_aar` writes
into a staging folder beside `<out>/<name>`, runs the optional `prepare` step there, and moves the task
into place only when everything succeeded: a failed import stores nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aar.tasks.build import public_mask
from aar.tasks.private import ITEM_META
from aar.tasks.secret import fingerprint, keyed_rng, task_secret
from aarlab.w2s.jsonl import write_json, write_jsonl

SPLITS = ("train_label", "train_unlabel", "test")
CARVED = ("train_unlabel", "test")  # the splits split between the draws; train_label is shared
DRAWS = ("main", "heldout")
PREFIX = {"train_label": "l", "train_unlabel": "u", "test": "t"}
QUESTION_FIELDS = ("question", "prompt", "input", "problem", "query", "instruction")
ANSWER_FIELDS = ("choice", "answer", "response", "output", "completion", "solution")
LABEL_FIELDS = ("label", "gt_label", "is_correct", "correct")
TRUE_STRINGS = {"1", "true", "yes", "correct", "b"}
FALSE_STRINGS = {"0", "false", "no", "incorrect", "a"}
HELDOUT_FRACTION = 0.25
MIN_HELDOUT_TEST = 2  # each draw's test needs items on both halves of its public/private mask
META_VALUE_CHARS = 200


class AarFormatError(ValueError):
    """The source directory or one of its rows does not match any layout this importer reads."""


class CeilingError(ValueError):
    """The strong ceiling does not beat the weak supervisor by the required margin (when preparing)."""


@dataclass
class Item:
    text: str
    label: int
    meta: dict[str, str | int | float | bool] = field(default_factory=dict)  # private (subset, ...)


def is_dataset_dir(path: Path) -> bool:
    return all((Path(path) / f"{s}.jsonl").is_file() for s in SPLITS)


def dataset_dirs(src: Path) -> list[Path]:
    """`src` itself if it is one dataset, else its dataset subdirectories (e.g. chat, math, code)."""
    src = Path(src)
    if is_dataset_dir(src):
        return [src]
    subs = sorted(p for p in src.iterdir() if p.is_dir() and is_dataset_dir(p)) if src.is_dir() else []
    if not subs:
        found = sorted(p.name for p in src.iterdir()) if src.is_dir() else []
        raise AarFormatError(f"{src}: expected {', '.join(s + '.jsonl' for s in SPLITS)} (or subdirectories "
                             f"holding them); found {found or 'nothing'}")
    return subs


def parse_label(value: Any, where: str) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float) and value in (0, 1):
        return int(value)
    if isinstance(value, str) and value.strip().lower() in TRUE_STRINGS | FALSE_STRINGS:
        return int(value.strip().lower() in TRUE_STRINGS)
    raise AarFormatError(f"{where}: label {value!r} is not binary (bool, 0/1, 'A'/'B', 'True'/'False')")


def _first(row: dict[str, Any], fields: tuple[str, ...]) -> str | None:
    for f in fields:
        if isinstance(row.get(f), str):
            return f
    return None


def text_fields(row: dict[str, Any], where: str) -> tuple[str, ...]:
    """The fields a row's verification text is made of (which layout it is)."""
    if all(isinstance(row.get(k), str) for k in ("prompt", "first", "second")):
        return ("prompt", "first", "second")
    q, a = _first(row, QUESTION_FIELDS), _first(row, ANSWER_FIELDS)
    if q and a:
        return (q, a)
    if isinstance(row.get("text"), str):
        return ("text",)
    raise AarFormatError(
        f"{where}: no text found; fields present: {sorted(row)}. Expected `question`+`choice` (binary), "
        f"`prompt`+`first`+`second` (comparison), `text`, or one of {QUESTION_FIELDS} with one of "
        f"{ANSWER_FIELDS}")


def render(row: dict[str, Any], where: str) -> str:
    """The verification text of a row (the claim whose truth is the label)."""
    fields = text_fields(row, where)
    if fields == ("prompt", "first", "second"):
        return (f"Question: {row['prompt']}\nAnswer A: {row['first']}\nAnswer B: {row['second']}\n"
                "Claim: Answer B is better than Answer A.")
    if len(fields) == 2:
        return f"Question: {row[fields[0]]}\nProposed answer: {row[fields[1]]}"
    return row["text"]


def item_meta(row: dict[str, Any], used: set[str]) -> dict[str, str | int | float | bool]:
    """The row's other scalar fields (`subset`, `difficulty`, ...), strings cut to a sane length."""
    out: dict[str, str | int | float | bool] = {}
    for k, v in row.items():
        if k in used or k in LABEL_FIELDS or len(k) > 64:
            continue
        if isinstance(v, str):
            out[k] = v[:META_VALUE_CHARS]
        elif isinstance(v, bool | int | float):
            out[k] = v
    return out


def read_split(path: Path, need_labels: bool = True) -> list[Item]:
    items: list[Item] = []
    with Path(path).open() as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{n}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise AarFormatError(f"{where}: not JSON ({e.msg})") from e
            if not isinstance(row, dict):
                raise AarFormatError(f"{where}: expected a JSON object, got {type(row).__name__}")
            field_ = next((f for f in LABEL_FIELDS if f in row and row[f] not in (None, -1)), None)
            if field_ is None and need_labels:
                raise AarFormatError(
                    f"{where}: no label; fields present: {sorted(row)}, expected one of {LABEL_FIELDS}. "
                    "The private labels of train_unlabel/test are needed for scoring: import the release's "
                    "`labeled_data/<dataset>` directory, not the label-stripped `data/<dataset>`")
            used = set(text_fields(row, where))
            items.append(Item(render(row, where), parse_label(row[field_], where) if field_ else -1,
                              item_meta(row, used | {"id"})))
    if not items:
        raise AarFormatError(f"{path}: no rows")
    return items


def read_dataset(src: Path) -> dict[str, list[Item]]:
    return {s: read_split(Path(src) / f"{s}.jsonl") for s in SPLITS}


def content_hash(src: Path) -> str:
    """sha256 over the three split files: the key of the carving (the same data always carves alike)."""
    h = hashlib.sha256()
    for s in SPLITS:
        h.update(s.encode() + b"\0" + (Path(src) / f"{s}.jsonl").read_bytes() + b"\0")
    return h.hexdigest()


def subset_of(item: Item) -> str:
    value = item.meta.get("subset")
    return "" if value is None else str(value)


def carve(splits: dict[str, list[Item]], key: str, fraction: float = HELDOUT_FRACTION,
          secret: bytes | None = None) -> dict[str, dict[str, list[Item]]]:
    """{draw: {split: items}}: the module docstring's carving rule."""
    if not 0 < fraction < 1:
        raise AarFormatError(f"heldout fraction {fraction} must be strictly between 0 and 1")
    secret = task_secret(create=True) if secret is None else secret
    out: dict[str, dict[str, list[Item]]] = {d: {"train_label": splits["train_label"]} for d in DRAWS}
    for split in CARVED:
        items = splits[split]
        strata: dict[str, list[int]] = {}
        for i, it in enumerate(items):
            strata.setdefault(subset_of(it), []).append(i)
        held: set[int] = set()
        for name, idx in sorted(strata.items()):
            order = list(idx)
            keyed_rng("aar_jsonl", "carve", key, split, name, secret=secret).shuffle(order)
            held.update(order[: int(fraction * len(order) + 0.5)])
        out["heldout"][split] = [it for i, it in enumerate(items) if i in held]
        out["main"][split] = [it for i, it in enumerate(items) if i not in held]
        least = MIN_HELDOUT_TEST if split == "test" else 1
        for draw in DRAWS:
            if len(out[draw][split]) < least:
                raise AarFormatError(
                    f"{split}: {len(items)} items are too few to carve a held-out draw of fraction "
                    f"{fraction} "
                    f"({len(out[draw][split])} would be in {draw}; at least {least} needed)")
    return out


def write_draw(splits: dict[str, list[Item]], base: Path, meta: dict, secret: bytes) -> Path:
    """One draw's public and private files under `base` (= `<task>/<draw>`); returns its public dir."""
    pub, priv = base / "public", base / "private"
    write_jsonl(pub / "train_label.jsonl",
                ({"id": f"l{i}", "text": it.text, "label": it.label}
                 for i, it in enumerate(splits["train_label"])))
    for split in CARVED:
        write_jsonl(pub / f"{split}.jsonl",
                    ({"id": f"{PREFIX[split]}{i}", "text": it.text} for i, it in enumerate(splits[split])))
    write_json(priv / "labels.json", {s: [it.label for it in splits[s]] for s in CARVED})
    mask = public_mask(meta["task"], "aar_jsonl", meta["draw"], len(splits["test"]), secret)
    write_json(priv / "test_public_mask.json", mask)
    if any(it.meta for s in CARVED for it in splits[s]):
        write_json(priv / ITEM_META, {s: [it.meta for it in splits[s]] for s in CARVED})
    priv.chmod(0o700)
    write_json(pub / "meta.json", meta)
    return pub


def write_task(splits: dict[str, list[Item]], name: str, out: Path, models: dict[str, str],
               seeds: list[int], size: str = "full", source: str = "", reference_mode: str = "finetune",
               heldout_fraction: float = HELDOUT_FRACTION, key: str | None = None) -> Path:
    """Carve and write both draws of task `name` under `out`; returns the `main` public data dir."""
    secret = task_secret(create=True)
    draws = carve(splits, key or name, heldout_fraction, secret)
    task_dir = Path(out) / name
    for draw, parts in draws.items():
        meta = {
            "task": name, "draw": draw, "size": size,
            "description": f"Imported AAR weak-to-strong dataset ({source or name}): is the claim correct?",
            "n": {s: len(parts[s]) for s in SPLITS}, "models": dict(models), "seeds": list(seeds),
            "reference_mode": reference_mode, "baselines": {}, "secret": fingerprint(secret),
            "source": {"format": "aar_jsonl", "path": source, "heldout_fraction": heldout_fraction,
                       "published": {s: len(splits[s]) for s in SPLITS}},
        }
        write_draw(parts, task_dir / draw, meta, secret)
    return task_dir / "main" / "public"


def _place(staged: Path, final: Path, force: bool) -> None:
    """Move a finished task into place (replacing an old one only with `force`)."""
    if not final.exists():
        staged.rename(final)
        return
    if not force:
        raise FileExistsError(f"{final} exists (pass force=True / --force to overwrite)")
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    final.rename(old)
    staged.rename(final)
    shutil.rmtree(old)


def import_aar(src: Path, name: str, out: Path, weak: str, strong: str, seeds: list[int] | None = None,
               size: str = "full", force: bool = False, heldout_fraction: float = HELDOUT_FRACTION,
               reference_mode: str = "finetune", prepare: Callable[[Path], object] | None = None) -> Path:
    """Convert one AAR dataset directory into task `name` (both draws) under `out`; with `prepare`, call it
    on the staged task dir first. Nothing is left under `out` unless every step succeeded. Returns the
    `main` public data dir."""
    src = Path(src).resolve()
    if not is_dataset_dir(src):
        dataset_dirs(src)  # raises with what was found
        raise AarFormatError(f"{src} holds several datasets; import them one at a time")
    out = Path(out)
    final = out / name
    if final.exists() and not force:
        raise FileExistsError(f"{final} exists (pass force=True / --force to overwrite)")
    splits = read_dataset(src)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.importing-", dir=out))
    try:
        write_task(splits, name, staging, {"weak": weak, "strong": strong}, seeds or [0, 1, 2], size,
                   str(src), reference_mode, heldout_fraction, key=content_hash(src))
        if prepare is not None:
            prepare(staging / name)
        _place(staging / name, final, force)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final / "main" / "public"
