"""What a snapshot's method is: its files, its identity, a description in words, a diff against another.

Used by the dashboard (a finding's recipe or code against its parent) and by the report (the winning
method against the closest baseline, one row per distinct method). Snapshots come from agents, so
reading one is bounded (files, bytes) and nothing here executes or unpacks to disk.
Light: standard library only (the server imports it).
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import io
import json
import tarfile
import tokenize
from functools import lru_cache
from pathlib import Path, PurePosixPath

MAX_FILES = 200
MAX_FILE_BYTES = 256 * 1024
MAX_TOTAL_BYTES = 2 * 1024 * 1024
DOC_SUFFIXES = (".md", ".txt", ".rst")  # notes: not part of what a method is
NOT_A_METHOD = ("strong_ceiling",)  # reads true labels: a ceiling, never "the closest baseline"

# aarlab.w2s.recipe.Recipe's defaults, every field but `name` (that module imports torch; the server must
# stay light; tests/report/test_method_words.py keeps the two equal)
RECIPE_DEFAULTS: dict = {
    "mode": None,
    "label_source": "weak_soft",
    "mix_alpha": 0.5,
    "feature_view": "auto",
    "feature_dim": None,
    "direction_method": "pca",
    "direction_candidates": 4,
    "icm_steps": 60,
    "icm_flip_frac": 0.02,
    "icm_temperature": 1.0,
    "icm_consistency": 2.0,
    "icm_question_sep": None,
    "knn_k": 10,
    "input_labels": "weak",
    "channel_prior": "student",
    "channel_em_iters": 0,
    "channel_beta": 1.0,
    "channel_alpha": 1.0,
    "hard_targets": False,
    "filter": "none",
    "filter_keep": 0.7,
    "relabel_dropped": False,
    "reweight": "none",
    "loss": "ce",
    "aux_alpha": 0.5,
    "rounds": 1,
    "lr": None,
    "epochs": None,
    "weight_decay": 0.0,
    "l2": None,
    "pca_dim": None,
    "student_view": "all",
    "early_stop": False,
}
Files = dict[str, str]


def snapshot_files(data: bytes) -> Files:
    """The text files of a snapshot (tar.gz), bounded; a binary or oversized file reads as a one-line note."""
    out: Files = {}
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar:
                if not member.isreg():
                    continue
                name = PurePosixPath(member.name).as_posix().lstrip("/")
                if len(out) >= MAX_FILES:
                    out["…"] = f"(more than {MAX_FILES} files; the rest not shown)"
                    break
                if member.size > MAX_FILE_BYTES or total + member.size > MAX_TOTAL_BYTES:
                    out[name] = f"(not shown: {member.size} bytes)"
                    continue
                fh = tar.extractfile(member)
                raw = fh.read() if fh is not None else b""
                total += len(raw)
                try:
                    out[name] = raw.decode("utf-8")
                except UnicodeDecodeError:
                    out[name] = f"(binary file, {len(raw)} bytes)"
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        return {"(unreadable)": f"not a readable tar.gz snapshot: {exc}"}
    return idea_files(out)


def idea_files(files: Files) -> Files:
    """Strip a single top-level folder when the idea (run.py) lives inside it."""
    if "run.py" in files or not files:
        return dict(sorted(files.items()))
    tops = {name.split("/", 1)[0] for name in files}
    if len(tops) == 1 and all("/" in n for n in files):
        top = tops.pop()
        return dict(sorted((n[len(top) + 1 :], t) for n, t in files.items()))
    return dict(sorted(files.items()))


def folder_files(folder: Path) -> Files:
    out: Files = {}
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            try:
                out[path.relative_to(folder).as_posix()] = path.read_text()
            except (UnicodeDecodeError, OSError):
                continue
    return out


def baseline_files(ceilings: bool = False) -> dict[str, Files]:
    """The baseline ideas (aarlab/w2s/baselines/<name>), name -> files; the ceilings only when asked."""
    from aarlab.w2s.baselines import BASELINES_DIR

    return {
        p.parent.name: folder_files(p.parent)
        for p in sorted(BASELINES_DIR.glob("*/run.py"))
        if ceilings or p.parent.name not in NOT_A_METHOD
    }


def is_doc(name: str) -> bool:
    return name.lower().endswith(DOC_SUFFIXES)


def recipe_of(files: Files) -> dict | None:
    """The recipe (config.json without its free-form `name`) when the idea is a recipe idea."""
    if "run_recipe" not in files.get("run.py", "") or "config.json" not in files:
        return None
    try:
        cfg = json.loads(files["config.json"])
    except ValueError:
        return None
    if not isinstance(cfg, dict):
        return None
    return {k: v for k, v in cfg.items() if k != "name"}


def full_recipe(recipe: dict) -> dict:
    return {**RECIPE_DEFAULTS, **recipe}


def _active_only(recipe: dict) -> dict:
    """A full recipe with the fields it ignores at their defaults, as `aarlab.w2s.recipe.parse_recipe`
    runs it (one table, `aarlab.w2s.recipe_fields`, says which)."""
    from aarlab.w2s.recipe_fields import field_active

    return {k: v if k not in RECIPE_DEFAULTS or field_active(k, recipe) else RECIPE_DEFAULTS[k]
            for k, v in recipe.items()}


def canonical_config(files: Files) -> str | None:
    """config.json as one text for every way of writing the same config: without its `name`, keys sorted,
    and for a recipe idea the recipe's defaults filled in (written out or left out, the same recipe) and
    the fields it ignores at their defaults (the engine resets them: set or not, the same run)."""
    if "config.json" not in files:
        return None
    recipe = recipe_of(files)
    if recipe is not None:
        return json.dumps(_active_only(full_recipe(recipe)), indent=1, sort_keys=True) + "\n"
    try:
        cfg = json.loads(files["config.json"])
    except ValueError:
        return files["config.json"]
    if isinstance(cfg, dict):
        cfg.pop("name", None)
    return json.dumps(cfg, indent=1, sort_keys=True) + "\n"


def _method_view(files: Files) -> Files:
    """The files that make the method: no notes, config.json canonical (`canonical_config`)."""
    out = {name: text for name, text in files.items() if not is_doc(name)}
    config = canonical_config(files)
    if config is not None:
        out["config.json"] = config
    return out


def method_key(files: Files) -> str:
    """Same key = same method: identical code and recipe (names and notes aside)."""
    view = _method_view(files)
    h = hashlib.sha256()
    for name, text in sorted(view.items()):
        h.update(name.encode() + b"\0" + hashlib.sha256(text.encode()).digest())
    return h.hexdigest()


def run_key(folder: Path) -> str:
    """What an idea folder's runs depend on: two folders with one key run alike, so the overseer checks
    them once. A recipe the engine runs (`_engine_recipe`: a baseline's run.py and a config.json, nothing
    else a run reads) is keyed by run.py's bytes and the recipe as the engine reads it (`name` left out,
    defaults filled in, ignored fields reset). Any other folder is keyed by every file byte for byte,
    notes and config.json as written included: code of its own may read any of them. Unlike `method_key`,
    binary files count. Bytecode is left out: the server refuses it in a snapshot and
    `aar.sandbox.research.stage_rerun` never stages it, so what runs is the source hashed here."""
    folder = Path(folder)
    recipe = _engine_recipe(folder)
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if not path.is_file() or path.is_symlink() or _bytecode(folder, path):
            continue
        if recipe is not None and is_doc(rel):
            continue
        raw = path.read_bytes()
        if recipe is not None and rel == "config.json":
            raw = (json.dumps(_active_only(full_recipe(recipe)), indent=1, sort_keys=True) + "\n").encode()
        h.update(rel.encode() + b"\0" + hashlib.sha256(raw).digest())
    return h.hexdigest()


def _bytecode(folder: Path, path: Path) -> bool:
    rel = path.relative_to(folder)
    return "__pycache__" in rel.parts or path.suffix.lower() in (".pyc", ".pyo")


def _engine_recipe(folder: Path) -> dict | None:
    """The recipe (config.json without `name`) when nothing but the engine reads the folder's config: only
    run.py (a baseline's: `is_recipe_runner`) and config.json besides notes and bytecode, and a config that
    parses as the engine parses it (strict UTF-8 JSON, an object). Else None."""
    rels = {p.relative_to(folder).as_posix() for p in folder.rglob("*")
            if not (p.is_dir() and not p.is_symlink()) and not _bytecode(folder, p) and not is_doc(p.name)}
    run_py, config = folder / "run.py", folder / "config.json"
    if rels != {"run.py", "config.json"} or run_py.is_symlink() or config.is_symlink():
        return None
    if not is_recipe_runner(run_py.read_bytes()):
        return None
    try:
        cfg = json.loads(config.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return {k: v for k, v in cfg.items() if k != "name"} if isinstance(cfg, dict) else None


def _code_shape(source: str) -> str | None:
    """A Python file's code without its module docstring, comments and layout (None if it does not parse)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    if tree.body and isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Constant):
        tree.body = tree.body[1:]
    return ast.dump(tree)


@lru_cache(maxsize=1)
def _recipe_runners() -> frozenset[str]:
    return frozenset(
        shape for files in baseline_files(ceilings=True).values()
        if "config.json" in files and (shape := _code_shape(files.get("run.py", ""))) is not None
    )


def is_recipe_runner(run_py: bytes | str) -> bool:
    """Whether a run.py is one of the baselines' (docstring, comments and layout aside), which hand
    config.json to `aarlab.w2s.recipe.run_recipe`. Only then may a run key read config.json as a recipe: a
    run.py of its own could read a field the engine ignores, or tell a default written out from one left
    out. Read as the import reads it: a file whose source encoding is not UTF-8 (a coding cookie, a BOM)
    is not one, since a cookie can turn what parses here as a comment into code at import."""
    raw = run_py.encode() if isinstance(run_py, str) else run_py
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        text = raw.decode("utf-8")
    except (SyntaxError, UnicodeDecodeError):
        return False
    shape = _code_shape(text) if encoding == "utf-8" else None
    return shape is not None and shape in _recipe_runners()


def _pct(x: object) -> str:
    return f"{100 * float(x):.0f}%" if isinstance(x, int | float) else str(x)


def describe_recipe(recipe: dict) -> str:
    """A recipe in words (aarlab.w2s.recipe.run_recipe's semantics)."""
    r = full_recipe(recipe)
    first = r.get("input_labels", "weak")
    inputs = {
        "weak": "the weak labels",
        "direction": f"the labels of an unsupervised truth direction ({r['direction_method']})",
        "icm": f"the labels of a first mutual-predictability search ({r['icm_steps']} steps)",
        "knn": f"the weak labels smoothed over {r['knn_k']} neighbours",
        "channel": f"a noisy-channel posterior ({r['channel_prior']} prior)",
    }.get(first, f"the labels of {first}")
    src = {
        "weak_hard": "the weak model's hard labels",
        "weak_soft": "the weak model's soft labels",
        "strong_prior": "the strong model's own zero-shot labels (no weak labels)",
        "mix": f"a mix of the weak soft labels ({_pct(1 - float(r['mix_alpha']))}) and the strong "
        f"model's zero-shot prior ({_pct(r['mix_alpha'])})",
        "direction": f"the labels of an unsupervised truth direction in its frozen features "
        f"({r['direction_method']}), oriented by the weak labels",
        "icm": f"labels found by mutual-predictability search (ICM, {r['icm_steps']} annealing steps "
        f"from {inputs})",
        "knn": f"{inputs} smoothed over each item's {r['knn_k']} nearest neighbours in its features",
        "channel": f"a noisy-channel posterior (weak labels as noisy evidence, {r['channel_prior']} prior"
        f"{', EM ' + str(r['channel_em_iters']) + ' iterations' if r['channel_em_iters'] else ''})",
    }.get(r["label_source"], f"label source {r['label_source']}")
    parts = [f"Train the strong model{' (' + r['mode'] + ' mode)' if r['mode'] else ''} on {src}"]
    if r["pca_dim"] is not None:
        parts.append(f"with a probe head on the top {r['pca_dim']} principal components of its features")
    if r["student_view"] != "all":
        parts.append(f"on the `{r['student_view']}` feature view")
    keep = _pct(r["filter_keep"])
    if r["filter"] == "weak_confidence":
        parts.append(f"keeping the {keep} of unlabeled items the weak model is most sure of")
    elif r["filter"] == "agreement":
        parts.append(f"keeping the {keep} where the weak labels agree most with the strong prior")
    elif r["filter"] != "none":
        parts.append(f"filter {r['filter']} (keep {r['filter_keep']})")
    if r["filter"] != "none" and r["relabel_dropped"]:
        parts.append("then letting that student relabel what the filter dropped and training again")
    if r["reweight"] == "weak_confidence":
        parts.append("weighting items by the weak model's confidence")
    elif r["reweight"] == "agreement":
        parts.append("weighting items by weak/strong agreement")
    elif r["reweight"] != "none":
        parts.append(f"reweighting {r['reweight']}")
    loss = {
        "ce": "cross-entropy",
        "aux_conf": f"the auxiliary-confidence loss (mixing in its own predictions, α {r['aux_alpha']})",
        "bootstrap": f"a soft-bootstrapping loss (α {r['aux_alpha']})",
        "gce": "generalized cross-entropy (robust to label noise)",
    }.get(r["loss"], f"loss {r['loss']}")
    parts.append(f"with {loss}")
    if r["early_stop"]:
        parts.append("stopping early on held-out weak-label misfit")
    if int(r["rounds"] or 1) > 1:
        parts.append(f"over {r['rounds']} rounds of self-training (later targets half its own predictions)")
    hp = [
        f"{k.replace('_', ' ')} {r[k]}"
        for k in ("lr", "epochs", "weight_decay", "l2")
        if r[k] is not None and r[k] != RECIPE_DEFAULTS[k]
    ]
    said = {"mode", "label_source", "pca_dim", "student_view", "filter", "filter_keep", "relabel_dropped",
            "reweight", "loss", "aux_alpha", "early_stop", "rounds", "lr", "epochs", "weight_decay", "l2",
            "direction_method", "icm_steps", "knn_k", "channel_prior", "channel_em_iters", "input_labels"}
    extra = [  # the other fields that differ from their defaults
        f"{k.replace('_', ' ')} {v}" for k, v in recipe.items()
        if k not in said and (k not in RECIPE_DEFAULTS or v != RECIPE_DEFAULTS[k])
    ]
    text = ", ".join(parts)
    if hp or extra:
        text += "; " + ", ".join(hp + extra)
    return text + "."


def describe(files: Files, fallback: str = "") -> str:
    """The method in words: its recipe, else what its code is (with the poster's own words as fallback)."""
    recipe = recipe_of(files)
    if recipe is not None:
        return describe_recipe(recipe)
    code = [n for n in files if n.endswith(".py")]
    lines = sum(files[n].count("\n") + 1 for n in code)
    what = f"Hand-written idea ({len(code)} Python file(s), {lines} lines)"
    return f"{what}: {fallback}" if fallback else what + "."


def recipe_changes(old: dict | None, new: dict | None) -> list[tuple[str, object, object]]:
    """(key, old value, new value) for every recipe field that differs, defaults filled in and the fields
    each recipe ignores at their defaults (a change the engine never reads is no change)."""
    if old is None or new is None:
        return []
    a, b = _active_only(full_recipe(old)), _active_only(full_recipe(new))
    return [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


def diff(old: Files, new: Files, old_label: str, new_label: str, context: int = 3) -> str:
    """Unified diff of the method files (notes left out; config.json canonical, without its name)."""
    a, b = _method_view(old), _method_view(new)
    out: list[str] = []
    for name in sorted(set(a) | set(b)):
        x, y = a.get(name, ""), b.get(name, "")
        if x == y:
            continue
        out += difflib.unified_diff(
            x.splitlines(keepends=True),
            y.splitlines(keepends=True),
            f"{old_label}/{name}" if name in a else "/dev/null",
            f"{new_label}/{name}" if name in b else "/dev/null",
            n=context,
        )
    return "".join(line if line.endswith("\n") else line + "\n" for line in out)


def distance(a: Files, b: Files) -> tuple[int, int, float]:
    """How far two methods are: (run.py differs, recipe fields that differ, 1 - text similarity)."""
    ra, rb = recipe_of(a), recipe_of(b)
    va, vb = _method_view(a), _method_view(b)
    text_a = "".join(f"{n}\n{t}" for n, t in sorted(va.items()))
    text_b = "".join(f"{n}\n{t}" for n, t in sorted(vb.items()))
    ratio = difflib.SequenceMatcher(None, text_a, text_b, autojunk=False).quick_ratio()
    fields = len(recipe_changes(ra, rb)) if ra is not None and rb is not None else 99
    return (int(va.get("run.py") != vb.get("run.py")), fields, round(1.0 - ratio, 6))


def closest_baseline(files: Files, baselines: dict[str, Files]) -> str | None:
    if not baselines:
        return None
    return min(sorted(baselines), key=lambda name: distance(files, baselines[name]))


def comparison(files: Files, against: Files, label: str) -> dict:
    """What the dashboard and the report show of a method against another: field changes and a diff."""
    return {
        "against": label,
        "changes": [
            {"field": k, "old": o, "new": n}
            for k, o, n in recipe_changes(recipe_of(against), recipe_of(files))
        ],
        "diff": diff(against, files, label, "this"),
    }
