"""The idea contract: `IdeaContext`, loading an idea folder, validating predictions."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from aarlab.w2s.data import DataDir


@dataclass
class IdeaContext:
    data_dir: Path
    output_dir: Path
    seed: int
    weak_model: str
    strong_model: str
    mode: str = "probe"
    config: dict = field(default_factory=dict)
    max_seconds: float | None = None
    threads: int = 1

    @property
    def data(self) -> DataDir:
        return DataDir(Path(self.data_dir))

    def write_predictions(self, test: list[int], train_unlabel: list[int] | None = None) -> Path:
        obj: dict[str, list[int]] = {"test": [int(x) for x in test]}
        if train_unlabel is not None:
            obj["train_unlabel"] = [int(x) for x in train_unlabel]
        self.output_dir.mkdir(parents=True, exist_ok=True)
        path = self.output_dir / "predictions.json"
        path.write_text(json.dumps(obj))
        return path


class IdeaError(Exception):
    """An idea could not be loaded, failed, or wrote invalid predictions."""


def load_config(idea_dir: Path) -> dict:
    path = Path(idea_dir) / "config.json"
    if not path.exists():
        return {}
    try:
        cfg = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise IdeaError(f"{path}: invalid JSON: {e}") from e
    if not isinstance(cfg, dict):
        raise IdeaError(f"{path}: must hold a JSON object")
    return cfg


def load_main(idea_dir: Path) -> Callable[[IdeaContext], None]:
    run_py = Path(idea_dir) / "run.py"
    if not run_py.is_file():
        raise IdeaError(f"{idea_dir}: no run.py")
    name = f"aar_idea_{abs(hash(str(run_py.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, run_py)
    assert spec and spec.loader
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(Path(idea_dir).resolve()))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.pop(0)
    main = getattr(module, "main", None)
    if not callable(main):
        raise IdeaError(f"{run_py}: defines no main(ctx)")
    return main


def validate_predictions(path: Path, n_test: int, n_unlabel: int) -> dict[str, list[int]]:
    """Parse and check predictions.json; raise IdeaError with a clear message otherwise."""
    if not path.is_file():
        raise IdeaError(f"the idea wrote no {path.name} in {path.parent}")
    try:
        obj = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise IdeaError(f"{path.name} is not valid JSON: {e}") from e
    if not isinstance(obj, dict) or "test" not in obj:
        raise IdeaError(f'{path.name} must be an object with a "test" list')
    expected = {"test": n_test, "train_unlabel": n_unlabel}
    for key in obj:
        if key not in expected:
            raise IdeaError(f"{path.name}: unknown key {key!r} (allowed: test, train_unlabel)")
    out: dict[str, list[int]] = {}
    for key, value in obj.items():
        if not isinstance(value, list):
            raise IdeaError(f"{path.name}: {key} must be a list")
        if len(value) != expected[key]:
            raise IdeaError(f"{path.name}: {key} has {len(value)} predictions, expected {expected[key]}")
        bad = [v for v in value if isinstance(v, bool) or v not in (0, 1) or not isinstance(v, int)]
        if bad:
            raise IdeaError(f"{path.name}: {key} must hold only 0/1 integers (found {bad[0]!r})")
        out[key] = value
    return out
