"""`aar run --check` and the checks `aar run` makes before starting anything: typos in `llm` tables,
a missing or refused key, an endpoint that is down, an unknown model, unprepared task data; one line
per problem, exit 2, nothing started. Providers are checked through the real anthropic/openai clients
against the local scripted model server."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "agents"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))
from scripted_llm_server import ScriptedLLMServer  # noqa: E402
from server_helpers import write_task  # noqa: E402

from aar.agents.llm.config import LLMAgentConfig  # noqa: E402
from aar.agents.llm.preflight import check_provider  # noqa: E402
from aar.supervisor.config import load_config  # noqa: E402

AAR = str(Path(sys.executable).parent / "aar")
GOOD = "sk-scripted-good"
GOOD_TABLE = (
    '{{ provider = "anthropic", model = "scripted-model", base_url = "{url}", api_key_env = "PF_GOOD" }}'
)


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedLLMServer]:
    with ScriptedLLMServer([], api_key=GOOD, models=["scripted-model"]) as srv:
        yield srv


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_each_provider_problem_is_one_line(llm: ScriptedLLMServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PF_GOOD", GOOD)
    monkeypatch.setenv("PF_BAD", "sk-wrong")
    monkeypatch.delenv("PF_UNSET", raising=False)
    v1 = f"{llm.url}/v1"

    def check(**kw: object) -> str | None:
        return check_provider(LLMAgentConfig.model_validate(kw), timeout=10)

    assert check(provider="anthropic", model="scripted-model", api_key_env="PF_UNSET") == (
        "no API key: set PF_UNSET (the agents read the key from it)"
    )
    assert (
        check(provider="anthropic", model="scripted-model", base_url=llm.url, api_key_env="PF_GOOD") is None
    )
    assert check(provider="anthropic", model="scripted-model", base_url=llm.url, api_key_env="PF_BAD") == (
        f"{llm.url} refused the key in PF_BAD (401)"
    )
    assert check(provider="anthropic", model="nope", base_url=llm.url, api_key_env="PF_GOOD") == (
        f"{llm.url} does not know the model 'nope'"
    )
    assert check(provider="openai", model="scripted-model", base_url=v1, api_key_env="PF_GOOD") is None
    assert check(provider="openai", model="scripted-model", base_url=v1, api_key_env="PF_BAD") == (
        f"{v1} refused the key in PF_BAD (401)"
    )
    assert check(provider="openai", model="qwen", base_url=v1, api_key_env="PF_GOOD") == (
        f"{v1} does not serve the model 'qwen' (it serves: scripted-model)"
    )
    down = f"http://127.0.0.1:{_closed_port()}/v1"
    line = check(provider="openai", model="m", base_url=down, api_key_env="PF_UNSET")
    assert line is not None and line.startswith(f"cannot reach {down}: APIConnectionError")
    assert "/v1/models/scripted-model" in llm.model_requests and "/v1/models" in llm.model_requests
    assert llm.requests == [], "no completion was asked for (no tokens spent)"


def _write_run(path: Path, run_dir: str, tasks: Path, llm_tables: list[str]) -> None:
    groups = "".join(
        f'\n[[agents]]\ncount = 1\nkind = "llm"\nprefix = "g{i}"\nllm = {t}\n'
        for i, t in enumerate(llm_tables, 1)
    )
    path.write_text(
        f'run_dir = "{run_dir}"\ntask = "alpha"\nsize = "tiny"\ntasks_dir = "{tasks}"\nsandbox = "bwrap"\n'
        + groups
    )


def _aar_run(conf: Path, *extra: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [AAR, "run", "--config", str(conf), *extra],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )


def test_run_check_reports_every_problem_and_starts_nothing(llm: ScriptedLLMServer, tmp_path: Path) -> None:
    import os

    tasks = tmp_path / "tasks"
    write_task(tasks, "alpha", 20, seed=3)
    conf = tmp_path / "examples" / "team.toml"
    conf.parent.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PF_GOOD", "PF_UNSET")} | {"PF_GOOD": GOOD}

    _write_run(conf, "runs/t", tasks, ['{ provider = "anthropic", modle = "x", max_dolars = 3 }'])
    cp = _aar_run(conf, "--check", cwd=tmp_path, env=env)
    assert cp.returncode == 2 and cp.stdout == ""
    assert cp.stderr.splitlines() == [
        f"aar run: {conf}: agents[0].llm.modle: unknown key",
        f"aar run: {conf}: agents[0].llm.max_dolars: unknown key",
    ]

    _write_run(
        conf,
        "runs/t",
        tmp_path / "no-tasks",
        [
            '{ provider = "anthropic", model = "scripted-model", api_key_env = "PF_UNSET" }',
            f'{{ provider = "openai", model = "m", base_url = "http://127.0.0.1:{_closed_port()}/v1", '
            'api_key_env = "PF_UNSET" }',
            GOOD_TABLE.format(url=llm.url),
        ],
    )
    cp = _aar_run(conf, "--no-live", cwd=tmp_path, env=env)  # a real start: checked first, nothing started
    lines = cp.stderr.splitlines()
    assert cp.returncode == 2 and len(lines) == 3, cp.stderr
    assert lines[0].startswith("aar run: task 'alpha' is not prepared under")
    assert lines[1] == (
        "aar run: llm agents g1-1 (anthropic scripted-model): no API key: set PF_UNSET "
        "(the agents read the key from it)"
    )
    assert lines[2].startswith("aar run: llm agents g2-1 (openai m): cannot reach http://127.0.0.1:")
    assert not (tmp_path / "runs").exists() and not (conf.parent / "runs").exists()

    _write_run(
        conf,
        "runs/t",
        tasks,
        [GOOD_TABLE.format(url=llm.url)],
    )
    cp = _aar_run(conf, "--check", cwd=tmp_path, env=env)
    assert cp.returncode == 0, cp.stderr
    assert f"run dir {tmp_path / 'runs' / 't'}" in cp.stdout  # relative to the cwd, not to examples/
    assert not (tmp_path / "runs").exists(), "--check starts nothing"


def test_relative_paths_resolve_against_the_working_directory(tmp_path: Path) -> None:
    conf = tmp_path / "examples" / "run.toml"
    conf.parent.mkdir()
    conf.write_text(
        'run_dir = "runs/a"\ntask = "math"\ntasks_dir = "~/tasks"\n'
        '[agents]\nkind = "llm"\nllm = { prices_file = "prices.toml" }\n'
    )
    cfg = load_config(conf, cwd=tmp_path / "work")
    assert cfg.run_dir == tmp_path / "work" / "runs" / "a"
    assert cfg.tasks_dir == Path("~/tasks").expanduser()
    assert (
        cfg.agents[0].llm is not None and cfg.agents[0].llm.prices_file == tmp_path / "work" / "prices.toml"
    )


def test_an_llm_table_on_a_searcher_group_is_refused(tmp_path: Path) -> None:
    from pydantic import ValidationError

    conf = tmp_path / "run.toml"
    conf.write_text('run_dir = "r"\ntask = "math"\n[agents]\nllm = { model = "m" }\n')
    with pytest.raises(ValidationError, match="an `llm` table in a group of kind 'searcher'"):
        load_config(conf)


def test_the_examples_load_and_the_claude_team_needs_its_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from aar.supervisor.preflight import llm_problems

    repo = Path(__file__).resolve().parents[2]
    for example in sorted((repo / "examples").glob("*.toml")):
        assert load_config(example, cwd=repo).run_dir.parent == repo / "runs", example
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    cfg = load_config(repo / "examples" / "llm-team.toml", cwd=repo)
    assert llm_problems(cfg) == [
        "llm agents llm-1..llm-3 (anthropic claude-sonnet-4-5): no API key: set ANTHROPIC_API_KEY "
        "(the agents read the key from it)"
    ]


def test_an_unprepared_imported_task_and_a_missing_mlflow_say_what_to_do(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from aar.supervisor import mlflow_log
    from aar.supervisor.preflight import mlflow_problems, task_problems
    from aar.tasks.aar_jsonl import import_aar

    src = tmp_path / "labeled_data" / "toy"
    src.mkdir(parents=True)
    for split, n in (("train_label", 4), ("train_unlabel", 8), ("test", 12)):
        (src / f"{split}.jsonl").write_text("".join(f'{{"text": "{split} {i}", "label": {i % 2}}}\n'
                                                    for i in range(n)))
    tasks = tmp_path / "tasks"
    import_aar(src, "toy", tasks, "w", "s")
    conf = tmp_path / "run.toml"
    conf.write_text(f'run_dir = "{tmp_path}/r"\ntask = "toy"\ntasks_dir = "{tasks}"\n'
                    f'[mlflow]\ntracking_uri = "sqlite:///{tmp_path}/m.db"\n')
    cfg = load_config(conf)
    assert task_problems(cfg) == [
        f"task 'toy' under {tasks}: not prepared (no fixed finetune baselines): run "
        f"`aar w2s prepare-imported toy --tasks-dir {tasks}`"
    ]
    assert mlflow_problems(cfg) == []  # the test extra installs it
    monkeypatch.setattr(mlflow_log, "available", lambda: False)
    assert mlflow_problems(cfg) == [
        "the [mlflow] table needs MLflow: pip install 'aar[mlflow]' (or remove the table)"
    ]
