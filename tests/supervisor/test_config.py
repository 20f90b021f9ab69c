"""run.toml validation: groups, names, directions, relative paths, round trip through the TOML writer."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from aar.agents.searcher.directions import DIRECTIONS
from aar.supervisor.config import RunConfig, load_config
from aar.supervisor.tomlw import dumps


def test_load_relative_paths_and_defaults(tmp_path: Path) -> None:
    (tmp_path / "run.toml").write_text(
        'run_dir = "runs/a"\ntask = "math"\nsize = "tiny"\n[agents]\ncount = 3\n'
    )
    cfg = load_config(tmp_path / "run.toml", cwd=tmp_path / "cwd")  # relative to the working directory
    assert cfg.run_dir == (tmp_path / "cwd" / "runs" / "a").resolve()
    assert [n for n, _ in cfg.agent_specs()] == ["searcher-1", "searcher-2", "searcher-3"]
    dirs = cfg.agent_directions()
    assert list(dirs.values()) == [d.name for d in DIRECTIONS[:3]]  # different agents, different directions
    assert cfg.slots() >= 1


def test_groups_directions_and_override() -> None:
    cfg = RunConfig.model_validate(
        {
            "run_dir": "/tmp/x",
            "task": "math",
            "directions": [
                {"name": "d1", "text": "one", "seeds": [{}]},
                {"name": "d2", "text": "two", "seeds": [{"loss": "gce"}]},
            ],
            "agents": [
                {"count": 2, "kind": "searcher"},
                {"count": 2, "kind": "llm", "prefix": "claude", "directions": ["d2"], "llm": {"model": "m"}},
            ],
        }
    )
    assert cfg.agent_directions() == {
        "searcher-1": "d1",
        "searcher-2": "d2",
        "claude-1": "d2",
        "claude-2": "d2",
    }
    assert RunConfig.model_validate(tomllib.loads(dumps(cfg.model_dump(mode="json")))) == cfg


@pytest.mark.parametrize(
    "bad",
    [
        {"agents": {"count": 2, "directions": ["no-such-direction"]}},
        {"agents": [{"count": 1, "names": ["a"]}, {"count": 1, "names": ["a"]}]},
        {"agents": {"count": 2, "names": ["only-one"]}},
        {"sandbox": "chroot"},
        {"compute_slots": 0},
        {"unknown_key": 1},
        {"directions": [{"name": "x", "text": "t", "seeds": [{"loss": "nope"}]}]},
    ],
)
def test_rejects_bad_configs(bad: dict) -> None:
    with pytest.raises(ValidationError):
        RunConfig.model_validate({"run_dir": "/tmp/x", "task": "math", **bad})
