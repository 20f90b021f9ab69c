"""What an MCP client reads besides the tools: the same briefing the `llm` agent gets (one source:
`aar.agents.llm.prompt`), as prompts and resources, plus the staged public data and the agent's notebook.

Prompts: `briefing` (task, direction, rules, library docs) and `resume` (the briefing and the notebook, to
start or continue a session). Resources: `aar://briefing`, `aar://docs/library`, `aar://notebook`
(NOTEBOOK.md in the workspace) and `aar://data/<file>` for each staged data file (what /aar/data holds).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aar.agents.llm.notebook import NOTEBOOK, read_notebook
from aar.agents.llm.prompt import build_system_prompt, library_docs, notebook_section

MCP_NOTE = (
    "# Working through MCP\n\n"
    "You are connected through the `aar` MCP server. Use only its tools: `bash` runs in your sandbox, "
    "the file tools stay in your workspace and the task data. Your client's own shell, file and web "
    "tools (if it has any) act on the host outside every sandbox: never use them. The task data is "
    "readable at `/aar/data` (and as `aar://data/...` resources)."
)

NOTEBOOK_CHARS = 20_000  # as the llm loop's default `notebook_chars`


@dataclass(frozen=True)
class Resource:
    uri: str
    name: str
    title: str
    description: str
    mime_type: str
    path: Path | None = None  # a file, read when asked; None: generated text


@dataclass(frozen=True)
class Prompt:
    name: str
    title: str
    description: str


PROMPTS = [
    Prompt(
        "briefing",
        "Research briefing",
        "Your task, research direction, working rules and the research library's documentation: what the "
        "aar `llm` agent is told.",
    ),
    Prompt(
        "resume",
        "Start or resume a session",
        "The briefing followed by your notebook (NOTEBOOK.md): open each session with it.",
    ),
]


class SeatContent:
    """Prompts and resources of one seat (agent name, task meta, direction, its folders)."""

    def __init__(
        self,
        *,
        name: str,
        meta: dict,
        direction: str,
        workspace: Path,
        data_dir: Path,
        data_inside: str,
        workspace_inside: str,
    ) -> None:
        self.name, self.meta, self.direction = name, meta, direction
        self.workspace, self.data_dir = workspace, data_dir
        self.data_inside, self.workspace_inside = data_inside, workspace_inside

    def briefing(self) -> str:
        return build_system_prompt(
            name=self.name,
            meta=self.meta,
            direction=self.direction,
            data_dir=self.data_inside,
            workspace=self.workspace_inside,
            extra=MCP_NOTE,
        )

    def notebook(self) -> str:
        return read_notebook(self.workspace, NOTEBOOK_CHARS)

    def prompt_text(self, name: str) -> str:
        if name == "briefing":
            return self.briefing()
        if name == "resume":
            return self.briefing() + "\n\n" + notebook_section(self.notebook())
        raise KeyError(name)

    def resources(self) -> list[Resource]:
        out = [
            Resource(
                "aar://briefing",
                "briefing",
                "Research briefing",
                "Task, direction, rules and library docs (the `briefing` prompt).",
                "text/markdown",
            ),
            Resource(
                "aar://docs/library",
                "library",
                "aarlab.w2s library documentation",
                "How to write, run and evaluate an idea with the research library.",
                "text/markdown",
            ),
            Resource(
                "aar://notebook",
                "notebook",
                NOTEBOOK,
                "Your notebook: your memory across sessions (write it with write_file/edit_file).",
                "text/markdown",
                self.workspace / NOTEBOOK,
            ),
        ]
        for path in sorted(p for p in self.data_dir.rglob("*") if p.is_file()):
            rel = path.relative_to(self.data_dir).as_posix()
            mime = "application/x-ndjson" if path.suffix == ".jsonl" else "application/json"
            out.append(
                Resource(
                    f"aar://data/{rel}",
                    f"data/{rel}",
                    rel,
                    f"Task data file (read-only; {self.data_inside}/{rel} in the sandbox).",
                    mime,
                    path,
                )
            )
        return out

    def read(self, uri: str) -> tuple[str, str]:
        """(mime type, text) of a listed resource; KeyError for anything else."""
        for r in self.resources():
            if r.uri != uri:
                continue
            if uri == "aar://briefing":
                return r.mime_type, self.briefing()
            if uri == "aar://docs/library":
                return r.mime_type, library_docs()
            if uri == "aar://notebook":
                self.notebook()  # creates it from the template when missing
            assert r.path is not None
            return r.mime_type, r.path.read_text(encoding="utf-8", errors="replace")
        raise KeyError(uri)
