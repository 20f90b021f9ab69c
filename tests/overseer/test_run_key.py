"""`aar.methods.run_key`: snapshots that run alike share one key (the overseer checks them once); any file a
run can read but notes changes it."""

from __future__ import annotations

import json
from pathlib import Path

from aar.methods import run_key
from aarlab.w2s.recipe import write_idea


def _idea(root: Path, name: str, recipe: dict, notes: str = "") -> Path:
    folder = write_idea(root / name, {**recipe, "name": name})
    (folder / "NOTES.md").write_text(notes or f"# {name}\n")
    return folder


def test_notes_and_a_recipes_name_do_not_make_another_run(tmp_path: Path) -> None:
    a = _idea(tmp_path, "idea-001", {"pca_dim": 20, "loss": "aux_conf"}, "mine")
    b = _idea(tmp_path, "idea-007", {"pca_dim": 20, "loss": "aux_conf"}, "replicated from alice")
    # the same recipe with a default written out is the same recipe
    c = _idea(tmp_path, "c", {"pca_dim": 20, "loss": "aux_conf", "rounds": 1})
    assert run_key(a) == run_key(b) == run_key(c)


def test_code_recipe_and_data_files_do(tmp_path: Path) -> None:
    base = _idea(tmp_path, "base", {"pca_dim": 20})
    other = _idea(tmp_path, "other", {"pca_dim": 24})
    assert run_key(base) != run_key(other)
    code = _idea(tmp_path, "code", {"pca_dim": 20})
    (code / "run.py").write_text((code / "run.py").read_text() + "\n# changed\n")
    assert run_key(code) != run_key(base)
    data = _idea(tmp_path, "data", {"pca_dim": 20})
    (data / "weights.bin").write_bytes(bytes(range(256)))  # a binary file a run could load
    assert run_key(data) != run_key(base)
    shadow = _idea(tmp_path, "shadow", {"pca_dim": 20})
    (shadow / "aarlab").mkdir()
    (shadow / "aarlab" / "__init__.py").write_text("")  # would shadow the library on the idea's sys.path
    assert run_key(shadow) != run_key(base)
    assert json.loads((base / "config.json").read_text())["name"] == "base"


def test_a_field_the_recipe_ignores_is_one_run_set_or_not(tmp_path: Path) -> None:
    from aar.methods import comparison, folder_files, method_key
    from aarlab.w2s.recipe import parse_recipe

    base = {"label_source": "knn", "knn_k": 7}
    plain = _idea(tmp_path, "plain", base)
    # mix_alpha matters for `mix` only, icm_steps for icm only, filter_keep with a filter only
    idle = {**base, "mix_alpha": 0.9, "icm_steps": 5, "filter_keep": 0.3, "channel_beta": 3.0}
    copy = _idea(tmp_path, "copy", idle)
    assert run_key(copy) == run_key(plain)
    assert method_key(folder_files(copy)) == method_key(folder_files(plain))
    assert parse_recipe(idle) == parse_recipe(base)  # what the engine runs: the ignored fields reset
    assert comparison(folder_files(copy), folder_files(plain), "plain")["changes"] == []
    # the same fields where they matter are another run
    assert run_key(_idea(tmp_path, "mix", {"label_source": "mix", "mix_alpha": 0.9})) != run_key(
        _idea(tmp_path, "mix0", {"label_source": "mix"})
    )
    icm = _idea(tmp_path, "icm", {"label_source": "knn", "knn_k": 7, "input_labels": "icm", "icm_steps": 5})
    assert run_key(icm) != run_key(_idea(tmp_path, "icm0", {**base, "input_labels": "icm"}))
    kept = _idea(tmp_path, "kept", {**base, "filter": "knn", "filter_keep": 0.3})
    assert run_key(kept) != run_key(_idea(tmp_path, "kept0", {**base, "filter": "knn"}))


def test_recipe_semantics_only_where_the_engine_reads_the_config(tmp_path: Path) -> None:
    """A run.py of its own that names `run_recipe` may still read config.json itself (an ignored field, a
    default written out), and a helper file beside the baseline's run.py may too: their configs are keyed as
    written (name aside), so two such folders that run apart never share a key."""
    from aar.methods import is_recipe_runner

    base = {"label_source": "knn", "knn_k": 7}
    stock = _idea(tmp_path, "stock", base)
    runner = (stock / "run.py").read_text()
    assert is_recipe_runner(runner)
    assert is_recipe_runner('"""other words"""\nfrom aarlab.w2s.recipe import run_recipe\n\n\n'
                            "def main(ctx):  # a comment\n    run_recipe(ctx, ctx.config)\n")
    own = ("from aarlab.w2s.recipe import run_recipe\n\n\ndef main(ctx):\n"
           "    cfg = dict(ctx.config)\n    if cfg.get('mix_alpha') == 0.9 or 'rounds' in cfg:\n"
           "        cfg['label_source'] = 'weak_hard'\n    run_recipe(ctx, cfg)\n")
    assert not is_recipe_runner(own)
    # the same recipe three ways: as is, an ignored field set, a default written out
    configs = [{**base, "name": "x"}, {**base, "mix_alpha": 0.9}, {**base, "rounds": 1}]

    def keys(tweak: str) -> set[str]:
        out = set()
        for i, cfg in enumerate(configs):
            folder = tmp_path / f"{tweak}-{i}"
            folder.mkdir()
            (folder / "run.py").write_text(own if tweak == "own-run" else runner)
            (folder / "config.json").write_text(json.dumps(cfg))
            if tweak == "helper":
                (folder / "helper.py").write_text("import json\nCFG = json.load(open('config.json'))\n")
            out.add(run_key(folder))
        return out

    assert len(keys("own-run")) == 3 and len(keys("helper")) == 3
    assert keys("stock-runner") == {run_key(stock)}  # the baseline's runner alone: one run


def test_a_coding_cookie_cannot_hide_code_in_a_baselines_runner(tmp_path: Path) -> None:
    """Parsed as text, a `# coding: utf-7` line is a comment and `+AAo-` inside a comment is text; imported,
    `+AAo-` is a newline and the rest of the comment is code. Such a run.py is not the baseline's."""
    stock = _idea(tmp_path, "stock", {"label_source": "weak_hard"})
    runner = (stock / "run.py").read_text()
    trailer = "# +AAo-def main(ctx): print(ctx.config.get('mix_alpha'))\n"
    hidden = "# -*- coding: utf-7 -*-\n" + runner + trailer
    from aar.methods import is_recipe_runner

    assert is_recipe_runner(runner) and not is_recipe_runner(hidden.encode())
    keys = set()
    for i, alpha in enumerate((0.5, 0.9)):  # mix_alpha: a field hard labels ignore
        folder = _idea(tmp_path, f"cookie-{i}", {"label_source": "weak_hard", "mix_alpha": alpha})
        (folder / "run.py").write_text(hidden)
        keys.add(run_key(folder))
    assert len(keys) == 2


def test_code_of_its_own_is_keyed_on_every_file_as_written(tmp_path: Path) -> None:
    """No recipe semantics, so the name, the layout of config.json and the notes all count."""
    own = "import json\n\n\ndef main(ctx):\n    print(open('NOTES.md').read(), ctx.config)\n"
    variants = [({"name": "a", "x": 1.0}, "n"), ({"name": "b", "x": 1.0}, "n"),
                ({"x": 1.0, "name": "a"}, "n"), ({"name": "a", "x": 1.0}, "other notes")]
    keys = set()
    for i, (cfg, notes) in enumerate(variants):
        folder = tmp_path / f"own-{i}"
        folder.mkdir()
        (folder / "run.py").write_text(own)
        (folder / "config.json").write_text(json.dumps(cfg, indent=i))
        (folder / "NOTES.md").write_text(notes)
        keys.add(run_key(folder))
    assert len(keys) == 4
