"""Importing the published AAR JSONL layout (train_label/train_unlabel/test per dataset) as aar tasks."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aar.cli import app
from aar.tasks.aar_jsonl import (
    AarFormatError,
    CeilingError,
    Item,
    carve,
    dataset_dirs,
    import_aar,
    read_split,
    subset_of,
)
from aar.tasks.private import item_meta_for, labels_for, public_mask_for, subsets_for
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
    assert sorted(p.name for p in (tmp_path / "tasks").iterdir()) == ["aar_math"]  # no staging dir left
    meta = json.loads((pub / "meta.json").read_text())
    assert meta["models"] == {"weak": "weak/model", "strong": "strong/model"}
    assert meta["seeds"] == [42, 43] and meta["task"] == "aar_math" and meta["draw"] == "main"
    held = json.loads((pub.parents[1] / "heldout" / "public" / "meta.json").read_text())
    assert held["draw"] == "heldout" and held["source"]["published"] == N
    for split in ("train_unlabel", "test"):  # the pool is split, nothing lost or shared
        assert meta["n"][split] + held["n"][split] == N[split] and held["n"][split] >= 1
    assert meta["n"]["train_label"] == held["n"]["train_label"] == N["train_label"]
    data = DataDir(pub)
    assert data.texts("train_label")[1] == "Question: train_label 1 + 1 = ?\nProposed answer: 3"
    assert data.train_labels().tolist() == [int(i % 2 == 0) for i in range(N["train_label"])]
    texts = {d: set(DataDir(pub.parents[1] / d / "public").texts("test")) for d in ("main", "heldout")}
    assert not texts["main"] & texts["heldout"]
    for draw in ("main", "heldout"):
        dpub = pub.parents[1] / draw / "public"
        for split in ("train_unlabel", "test"):
            rows = [json.loads(line) for line in (dpub / f"{split}.jsonl").read_text().splitlines()]
            assert all(set(r) == {"id", "text"} for r in rows)  # no labels, no metadata
        assert "algebra" not in "".join(p.read_text() for p in dpub.rglob("*") if p.is_file())
        labels = labels_for(dpub)
        by_text = {f"Question: {r['question']}\nProposed answer: {r['choice']}": int(r["label"])
                   for s in N for r in binary_rows(s)}
        assert labels["test"] == [by_text[t] for t in DataDir(dpub).texts("test")]
        mask = public_mask_for(dpub)
        assert len(mask) == len(labels["test"]) and sum(mask) == len(mask) // 2
        assert subsets_for(dpub) == ["algebra"] * len(labels["test"])
        assert (dpub.parent / "private").stat().st_mode & 0o077 == 0
    assert not any(p.name == "labels.json" for p in pub.rglob("*"))


def _items(n: int, subsets: tuple[str, ...]) -> list[Item]:
    return [Item(f"text {i}", i % 2, {"subset": subsets[i % len(subsets)]}) for i in range(n)]


def test_carving_is_keyed_stratified_and_name_independent() -> None:
    splits = {"train_label": _items(4, ("a",)), "train_unlabel": _items(40, ("a", "b")),
              "test": _items(48, ("in", "in", "out"))}
    one = carve(splits, "hash1", 0.25, secret=b"s1")
    again = carve(splits, "hash1", 0.25, secret=b"s1")
    other = carve(splits, "hash1", 0.25, secret=b"s2")
    assert [it.text for it in one["heldout"]["test"]] == [it.text for it in again["heldout"]["test"]]
    assert [it.text for it in one["heldout"]["test"]] != [it.text for it in other["heldout"]["test"]]
    assert one["main"]["train_label"] is splits["train_label"] is one["heldout"]["train_label"]
    held = [subset_of(it) for it in one["heldout"]["test"]]
    assert held.count("in") == 8 and held.count("out") == 4  # 25% of each stratum (32 in, 16 out)
    assert len(one["heldout"]["train_unlabel"]) == 10
    main_order = [int(it.text.split()[1]) for it in one["main"]["test"]]
    assert main_order == sorted(main_order)  # the published order is kept
    with pytest.raises(AarFormatError, match="strictly between"):
        carve(splits, "k", 0.0, secret=b"s")
    with pytest.raises(AarFormatError, match="too few"):
        carve({**splits, "test": _items(3, ("x",))}, "k", 0.25, secret=b"s")


def test_same_data_carves_alike_under_any_name(tmp_path: Path) -> None:
    src = make_dataset(tmp_path / "math", binary_rows)
    a = import_aar(src, "a", tmp_path / "tasks", "w", "s")
    b = import_aar(src, "b", tmp_path / "tasks", "w", "s")
    for draw in ("main", "heldout"):
        ta = DataDir(a.parents[1] / draw / "public").texts("test")
        tb = DataDir(b.parents[1] / draw / "public").texts("test")
        assert ta == tb


def test_metadata_kept_private_per_item(tmp_path: Path) -> None:
    src = make_dataset(tmp_path / "math", binary_rows)
    pub = import_aar(src, "m", tmp_path / "tasks", "w", "s")
    meta = item_meta_for(pub)
    assert meta is not None and set(meta) == {"train_unlabel", "test"}
    assert all(m == {"subset": "algebra", "difficulty": 3} for m in meta["test"])


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
    res = CliRunner().invoke(app, ["w2s", "import-aar", str(release), "--out", str(out), "--seeds", "1,2",
                                   "--no-prepare"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["chat", "code", "math"]
    assert f"aar w2s prepare-imported chat --tasks-dir {out}" in " ".join(res.output.split())
    meta = json.loads((out / "chat" / "main" / "public" / "meta.json").read_text())
    assert meta["models"]["strong"] == "Qwen/Qwen3-4B-Base" and meta["seeds"] == [1, 2]
    res = CliRunner().invoke(app, ["w2s", "import-aar", str(release), "--name", "x", "--out", str(out)])
    assert res.exit_code == 2 and "single dataset" in res.output
    res = CliRunner().invoke(app, ["w2s", "import-aar", str(tmp_path / "nowhere"), "--out", str(out)])
    assert res.exit_code == 2 and "no such file or folder" in res.output
    res = CliRunner().invoke(app, ["w2s", "baselines", "--task", "chat", "--tasks-dir", str(out)])
    assert res.exit_code == 2 and "aar w2s prepare-imported chat" in " ".join(res.output.split())
    res = CliRunner().invoke(app, ["w2s", "baselines", "--task", "nope", "--tasks-dir", str(out)])
    assert res.exit_code == 2 and "no task 'nope'" in res.output


SMALL = {"train_label": 40, "train_unlabel": 90, "test": 120}


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    import torch
    from tiny_hf import make_tiny_model

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("tiny_hf_models")
    weak = make_tiny_model(root / "weak", seed=1, hidden=8, layers=1)
    return weak, make_tiny_model(root / "strong", seed=2)


def test_prepare_computes_weak_artifacts_and_baselines_with_tiny_hf_models(
        tmp_path: Path, tiny_models: tuple[Path, Path]) -> None:
    from tiny_hf import RELEASE_SUBSETS, write_release

    from aar.tasks.prepare_imported import prepare_imported

    weak_model, strong_model = tiny_models
    src = write_release(tmp_path / "labeled_data", SMALL)
    pub = import_aar(src, "toy", tmp_path / "tasks", str(weak_model), str(strong_model), seeds=[0],
                     reference_mode="probe")
    baselines = prepare_imported(pub.parents[1], modes=("probe",))
    meta = json.loads((pub / "meta.json").read_text())
    assert meta["baselines"] == baselines and set(baselines) == {"probe"}
    assert meta["reference_mode"] == "probe"
    b = baselines["probe"]
    assert b["strong_acc"] - b["weak_acc"] > 0.1  # random-init 32-wide probe ceiling vs an 8-wide weak probe
    for draw in ("main", "heldout"):
        dpub = pub.parents[1] / draw / "public"
        weak = json.loads((dpub / "weak" / "seed0.json").read_text())
        dmeta = json.loads((dpub / "meta.json").read_text())
        assert len(weak["train_unlabel"]) == dmeta["n"]["train_unlabel"]
        assert json.loads((dpub / "meta.json").read_text())["baselines"] == baselines
    assert b["weak_acc"] == json.loads((pub / "weak" / "seed0.json").read_text())["weak_test_acc"]
    per = json.loads((pub.parent / "private" / "subset_baselines.json").read_text())["probe"]
    assert set(per) == set(RELEASE_SUBSETS)
    n = {k: v["n"] for k, v in per.items()}
    assert sum(n.values()) == meta["n"]["test"]
    weighted = sum(per[k]["weak_acc"] * n[k] for k in per) / sum(n.values())
    assert weighted == pytest.approx(b["weak_acc"])  # the subsets partition the test split


def test_ceiling_below_the_margin_is_one_line_and_stores_nothing(
        tmp_path: Path, tiny_models: tuple[Path, Path]) -> None:
    from tiny_hf import write_release

    weak_model, _ = tiny_models
    src = write_release(tmp_path / "labeled_data", SMALL)
    out = tmp_path / "tasks"
    args = ["w2s", "import-aar", str(src), "--out", str(out), "--weak", str(weak_model), "--strong",
            str(weak_model), "--seeds", "0", "--mode", "probe"]
    # the weak model as its own ceiling, asked to beat itself by 0.6 accuracy: impossible above 0.4
    res = CliRunner().invoke(app, [*args, "--min-gap", "0.6"])
    assert res.exit_code == 2, res.output  # bad input (`aar.cli_errors.CliError`): one line, exit 2
    error = [line for line in res.output.splitlines() if "error" in line.lower()]
    assert len(error) == 1 and "does not beat the weak supervisor" in error[0]
    assert "nothing was stored" in error[0]
    assert not out.exists() or list(out.iterdir()) == []  # no task, no staging folder
    # a failing re-import with --force leaves the task it would have replaced as it was
    res = CliRunner().invoke(app, [*args, "--no-prepare"])
    assert res.exit_code == 0, res.output
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    res = CliRunner().invoke(app, [*args, "--min-gap", "0.6", "--force"])
    assert res.exit_code == 2
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    # the prepare-imported command refuses it the same way, in place, writing nothing
    res = CliRunner().invoke(app, ["w2s", "prepare-imported", "toy", "--tasks-dir", str(out), "--mode",
                                   "probe", "--min-gap", "0.6"])
    assert res.exit_code == 2 and "does not beat" in res.output
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_check_gap_names_both_accuracies() -> None:
    from aar.tasks.prepare_imported import check_gap, required_gap

    with pytest.raises(CeilingError, match=r"ceiling 0\.333 does not beat the weak supervisor 0\.508"):
        check_gap("t", "finetune", 0.508, 0.333, 500, 0.05)
    assert required_gap(0.5, 100) == pytest.approx(0.1)  # 2 binomial s.e. dominate on 100 items
    assert required_gap(0.5, 10_000) == 0.05
    check_gap("t", "probe", 0.6, 0.9, 100, 0.05)
