"""Import the published AAR weak-to-strong data (safety-research/automated-w2s-research) as an aar task.

That release has one directory per dataset (`chat`, `math`, `code`), each holding `train_label.jsonl`,
`train_unlabel.jsonl` and `test.jsonl` (the *labeled* copies, `labeled_data/<dataset>/`; its
`scripts/prepare_data.py` strips labels for agents, so import from `labeled_data`). Rows come in two
shapes, both read here:

- binary ("is this answer correct?", math/code): `question`, `choice`, `label` (bool or 0/1);
- comparison ("which answer is better?", chat): `prompt`, `first`, `second`, `label` ("A"/"B" or 0/1),
  rendered as the claim "Answer B is better than Answer A", true iff the label is B / 1.

Other layouts are accepted when they carry a text (`text`, or a question-like field `question` /
`prompt` / `input` / `problem` plus an answer-like field `choice` / `answer` / `response` / `output` /
`completion`) and a label (`label` / `gt_label` / `is_correct` / `correct`); anything else fails with
an error naming the fields found. Metadata (`subset`, `difficulty`, ...) is dropped.

The result is the task layout of docs/contracts.md, `main` draw only (the release has no second draw):
`<out>/<name>/main/public/{meta.json, train_label.jsonl, train_unlabel.jsonl, test.jsonl}` and
`<out>/<name>/main/private/{labels.json, test_public_mask.json}`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aar.tasks.build import public_mask
from aar.tasks.secret import task_secret
from aarlab.w2s.jsonl import write_json, write_jsonl

SPLITS = ("train_label", "train_unlabel", "test")
PREFIX = {"train_label": "l", "train_unlabel": "u", "test": "t"}
QUESTION_FIELDS = ("question", "prompt", "input", "problem", "query", "instruction")
ANSWER_FIELDS = ("choice", "answer", "response", "output", "completion", "solution")
LABEL_FIELDS = ("label", "gt_label", "is_correct", "correct")
TRUE_STRINGS = {"1", "true", "yes", "correct", "b"}
FALSE_STRINGS = {"0", "false", "no", "incorrect", "a"}


class AarFormatError(ValueError):
    """The source directory or one of its rows does not match any layout this importer reads."""


@dataclass
class Item:
    text: str
    label: int


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


def render(row: dict[str, Any], where: str) -> str:
    """The verification text of a row (the claim whose truth is the label)."""
    if all(isinstance(row.get(k), str) for k in ("prompt", "first", "second")):
        return (f"Question: {row['prompt']}\nAnswer A: {row['first']}\nAnswer B: {row['second']}\n"
                "Claim: Answer B is better than Answer A.")
    q, a = _first(row, QUESTION_FIELDS), _first(row, ANSWER_FIELDS)
    if q and a:
        return f"Question: {row[q]}\nProposed answer: {row[a]}"
    if isinstance(row.get("text"), str):
        return row["text"]
    raise AarFormatError(
        f"{where}: no text found; fields present: {sorted(row)}. Expected `question`+`choice` (binary), "
        f"`prompt`+`first`+`second` (comparison), `text`, or one of {QUESTION_FIELDS} with one of "
        f"{ANSWER_FIELDS}")


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
            field = next((f for f in LABEL_FIELDS if f in row and row[f] not in (None, -1)), None)
            if field is None and need_labels:
                raise AarFormatError(
                    f"{where}: no label; fields present: {sorted(row)}, expected one of {LABEL_FIELDS}. "
                    "The private labels of train_unlabel/test are needed for scoring: import the release's "
                    "`labeled_data/<dataset>` directory, not the label-stripped `data/<dataset>`")
            items.append(Item(render(row, where), parse_label(row[field], where) if field else -1))
    if not items:
        raise AarFormatError(f"{path}: no rows")
    return items


def read_dataset(src: Path) -> dict[str, list[Item]]:
    return {s: read_split(Path(src) / f"{s}.jsonl") for s in SPLITS}


def write_task(splits: dict[str, list[Item]], name: str, out: Path, models: dict[str, str],
               seeds: list[int], size: str = "full", source: str = "",
               reference_mode: str = "finetune") -> Path:
    """Write the `main` draw of task `name` under `out`; returns its public data dir."""
    base = Path(out) / name / "main"
    pub, priv = base / "public", base / "private"
    write_jsonl(pub / "train_label.jsonl",
                ({"id": f"l{i}", "text": it.text, "label": it.label}
                 for i, it in enumerate(splits["train_label"])))
    for split in ("train_unlabel", "test"):
        write_jsonl(pub / f"{split}.jsonl",
                    ({"id": f"{PREFIX[split]}{i}", "text": it.text} for i, it in enumerate(splits[split])))
    write_json(priv / "labels.json", {s: [it.label for it in splits[s]] for s in ("train_unlabel", "test")})
    n_test = len(splits["test"])
    mask = public_mask(name, "aar_jsonl", "main", n_test, task_secret(create=True))
    write_json(priv / "test_public_mask.json", mask)
    meta = {
        "task": name, "draw": "main", "size": size,
        "description": f"Imported AAR weak-to-strong dataset ({source or name}): is the claim correct?",
        "n": {s: len(splits[s]) for s in SPLITS}, "models": dict(models), "seeds": list(seeds),
        "reference_mode": reference_mode, "baselines": {},
        "source": {"format": "aar_jsonl", "path": source},
    }
    write_json(pub / "meta.json", meta)
    return pub


def import_aar(src: Path, name: str, out: Path, weak: str, strong: str, seeds: list[int] | None = None,
               size: str = "full", force: bool = False) -> Path:
    """Convert one AAR dataset directory into task `name` under `out`; returns its public data dir."""
    src = Path(src).resolve()
    if not is_dataset_dir(src):
        dataset_dirs(src)  # raises with what was found
        raise AarFormatError(f"{src} holds several datasets; import them one at a time")
    if (Path(out) / name / "main").exists() and not force:
        raise FileExistsError(f"{Path(out) / name / 'main'} exists (pass force=True / --force to overwrite)")
    splits = read_dataset(src)
    return write_task(splits, name, out, {"weak": weak, "strong": strong}, seeds or [0, 1, 2], size, str(src))
