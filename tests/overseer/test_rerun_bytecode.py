"""A re-run runs the source its run key hashes. Python imports a cached `.pyc` in place of the `.py`
beside it (an unchecked-hash one whatever the source says), and the run key leaves bytecode out, so a
snapshot holding a `__pycache__` could share the key of another method (a baseline's) and run other code.
The server refuses such snapshots (tests/server/test_bad_input.py); a re-run never stages bytecode."""

from __future__ import annotations

import importlib.util
import py_compile
import shutil
from pathlib import Path

from aar.compute import ComputeQueue
from aar.methods import run_key
from aar.overseer.rerun import Runner
from aar.sandbox.research import IDEA, stage_rerun
from aarlab.w2s.idea import load_main

SOURCE = '''
WHO = "{who}"


def main(ctx):
    ctx.write_predictions([{bit}] * ctx.data.meta["n"]["test"])
'''


def _poisoned_idea(root: Path) -> Path:
    """run.py says 0 everywhere; its cached bytecode (unchecked hash: never compared with the source) 1."""
    root.mkdir(parents=True)
    run_py = root / "run.py"
    run_py.write_text(SOURCE.format(who="bytecode", bit=1))
    py_compile.compile(str(run_py), cfile=importlib.util.cache_from_source(str(run_py)), doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    run_py.write_text(SOURCE.format(who="source", bit=0))
    return root


def test_a_rerun_runs_the_source_not_the_bytecode_beside_it(tiny_tasks: Path, tmp_path: Path) -> None:
    idea = _poisoned_idea(tmp_path / "idea")
    clean = tmp_path / "clean"
    shutil.copytree(idea, clean, ignore=shutil.ignore_patterns("__pycache__"))
    assert run_key(idea) == run_key(clean)  # the key sees only the source
    # the attack is real where bytecode is present: importing the folder runs the cached code
    assert load_main(idea).__globals__["WHO"] == "bytecode"

    runner = Runner(queue=ComputeQueue(tmp_path / "q", 1), sandbox="bwrap", timeout=300)
    public = tiny_tasks / "math" / "heldout" / "public"
    out = runner.run(idea, public, 0, tmp_path / "work", "heldout-s0")
    assert set(out["test"]) == {0}, "the re-run ran the cached bytecode, not run.py"


def test_staging_leaves_bytecode_out(tiny_tasks: Path, tmp_path: Path) -> None:
    idea = _poisoned_idea(tmp_path / "idea")
    (idea / "helper.pyc").write_bytes((idea / "__pycache__").joinpath(
        Path(importlib.util.cache_from_source(str(idea / "run.py"))).name).read_bytes())
    workspace, _ = stage_rerun(tmp_path / "run", idea, tiny_tasks / "math" / "heldout" / "public", "bwrap")
    staged = sorted(p.relative_to(workspace).as_posix() for p in workspace.rglob("*") if p.is_file())
    assert [p for p in staged if not p.startswith("data")] == [f"{IDEA}/run.py"]
