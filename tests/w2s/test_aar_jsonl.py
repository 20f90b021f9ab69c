"""Importing the published AAR JSONL layout (train_label/train_unlabel/test per dataset) as aar tasks."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aar.cli import app
from aar.tasks.aar_jsonl import AarFormatError, dataset_dirs, import_aar, read_split
from aar.tasks.private import labels_for, public_mask_for
from aarlab.w2s.data import DataDir

sys.path.insert(0, str(Path(__file__).parent))

N = {"train_label": 6, "train_unlabel": 8, "test": 10}


def _write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def binary_rows(split: str) -> list[dict]:  # the math/code shape of the release
    return [{"question": f"{split} {i} + {i} = ?", "choice": str(2 * i + i % 2), "label": i % 2 == 0,
             "subset": "algebra", "difficulty": 3} for i in range(N[split])]


def comparison_rows(split: str) -> list[dict]:  # the chat shape of the release
    return [{"prompt": f"{split} say hi {i}", "first": "hi", "second": "go away", "label": "AB"[i % 3 == 0]}
            for i in range(N[split])]


def make_dataset(root: Path, rows_of) -> Path:
    for split in N:
        _write(root / f"{split}.jsonl", rows_of(split))
    return root


def test_binary_dataset_becomes_task_layout(tmp_path: Path) -> None:
    src = make_dataset(tmp_path / "labeled_data" / "math", binary_rows)
    pub = import_aar(src, "aar_math", tmp_path / "tasks", "weak/model", "strong/model", seeds=[42, 43])
    assert pub == tmp_path / "tasks" / "aar_math" / "main" / "public"
    meta = json.loads((pub / "meta.json").read_text())
    assert meta["models"] == {"weak": "weak/model", "strong": "strong/model"}
    assert meta["n"] == N and meta["seeds"] == [42, 43] and meta["task"] == "aar_math"
    data = DataDir(pub)
    assert data.texts("train_label")[1] == "Question: train_label 1 + 1 = ?\nProposed answer: 3"
    assert data.train_labels().tolist() == [int(i % 2 == 0) for i in range(N["train_label"])]
    for split in ("train_unlabel", "test"):
        rows = [json.loads(line) for line in (pub / f"{split}.jsonl").read_text().splitlines()]
        assert len(rows) == N[split] and all(set(r) == {"id", "text"} for r in rows)  # no labels, no metadata
    labels = labels_for(pub)
    assert labels["test"] == [int(i % 2 == 0) for i in range(N["test"])]
    assert len(labels["train_unlabel"]) == N["train_unlabel"]
    mask = public_mask_for(pub)
    assert len(mask) == N["test"] and sum(mask) == N["test"] // 2
    assert not any(p.name == "labels.json" for p in pub.rglob("*"))


def test_comparison_rows_render_a_claim_about_b(tmp_path: Path) -> None:
    src = make_dataset(tmp_path / "chat", comparison_rows)
    items = read_split(src / "test.jsonl")
    assert items[0].text == ("Question: test say hi 0\nAnswer A: hi\nAnswer B: go away\n"
                             "Claim: Answer B is better than Answer A.")
    assert [it.label for it in items] == [int(i % 3 == 0) for i in range(N["test"])]  # "B" -> 1


def test_generic_field_names(tmp_path: Path) -> None:
    _write(tmp_path / "a.jsonl", [{"input": "2+2", "output": "4", "is_correct": 1},
                                  {"text": "the sky is green", "gt_label": "False"}])
    items = read_split(tmp_path / "a.jsonl")
    assert [(it.text, it.label) for it in items] == [("Question: 2+2\nProposed answer: 4", 1),
                                                     ("the sky is green", 0)]


def test_clear_errors(tmp_path: Path) -> None:
    _write(tmp_path / "nolabel.jsonl", [{"question": "q", "choice": "c"}])
    with pytest.raises(AarFormatError, match="labeled_data"):
        read_split(tmp_path / "nolabel.jsonl")
    _write(tmp_path / "odd.jsonl", [{"foo": "x", "bar": 1, "label": 1}])
    with pytest.raises(AarFormatError, match=r"\['bar', 'foo', 'label'\]"):
        read_split(tmp_path / "odd.jsonl")
    _write(tmp_path / "multi.jsonl", [{"text": "x", "label": 3}])
    with pytest.raises(AarFormatError, match="not binary"):
        read_split(tmp_path / "multi.jsonl")
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    with pytest.raises(AarFormatError, match="bad.jsonl:1"):
        read_split(tmp_path / "bad.jsonl")
    (tmp_path / "empty").mkdir()
    with pytest.raises(AarFormatError, match="train_label.jsonl"):
        dataset_dirs(tmp_path / "empty")


def test_existing_task_needs_force(tmp_path: Path) -> None:
    src = make_dataset(tmp_path / "math", binary_rows)
    import_aar(src, "m", tmp_path / "tasks", "w", "s")
    with pytest.raises(FileExistsError):
        import_aar(src, "m", tmp_path / "tasks", "w", "s")
    import_aar(src, "m", tmp_path / "tasks", "w", "s", force=True)


def test_cli_imports_every_dataset_of_a_release(tmp_path: Path) -> None:
    release = tmp_path / "labeled_data"
    make_dataset(release / "chat", comparison_rows)
    make_dataset(release / "math", binary_rows)
    make_dataset(release / "code", binary_rows)
    out = tmp_path / "tasks"
    res = CliRunner().invoke(app, ["w2s", "import-aar", str(release), "--out", str(out), "--seeds", "1,2"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["chat", "code", "math"]
    meta = json.loads((out / "chat" / "main" / "public" / "meta.json").read_text())
    assert meta["models"]["strong"] == "Qwen/Qwen3-4B-Base" and meta["seeds"] == [1, 2]
    res = CliRunner().invoke(app, ["w2s", "import-aar", str(release), "--name", "x", "--out", str(out)])
    assert res.exit_code == 2 and "single dataset" in res.output
    res = CliRunner().invoke(app, ["w2s", "import-aar", str(tmp_path / "nowhere"), "--out", str(out)])
    assert res.exit_code == 2 and "no such file or folder" in res.output


def test_prepare_computes_weak_artifacts_and_baselines_with_tiny_hf_models(tmp_path: Path) -> None:
    import torch
    from tiny_hf import make_tiny_model, toy_task

    from aar.tasks.aar_jsonl_cli import prepare_imported

    torch.set_num_threads(1)
    model = make_tiny_model(tmp_path / "model")

    def rows(split: str) -> list[dict]:
        texts, labels = toy_task(N[split] * 2, seed=len(split))
        return [{"text": t, "label": y} for t, y in zip(texts, labels, strict=True)]

    src = make_dataset(tmp_path / "toy", rows)
    pub = import_aar(src, "toy", tmp_path / "tasks", str(model), str(model), seeds=[0])
    baselines = prepare_imported(pub, modes=("probe",))
    weak = json.loads((pub / "weak" / "seed0.json").read_text())
    assert len(weak["train_unlabel"]) == 2 * N["train_unlabel"] and 0 <= weak["weak_test_acc"] <= 1
    meta = json.loads((pub / "meta.json").read_text())
    assert meta["baselines"] == baselines and set(baselines) == {"probe"}
    assert baselines["probe"]["weak_acc"] == weak["weak_test_acc"]
    assert 0 <= baselines["probe"]["strong_acc"] <= 1 and meta["reference_mode"] == "probe"
