"""The `aar` command line. Each part registers its own sub-commands here, one line each."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Automated alignment researchers.")

from aar.tasks.cli import w2s_app, zoo_app  # noqa: E402

app.add_typer(zoo_app, name="zoo")
app.add_typer(w2s_app, name="w2s")

from aar.tasks.aar_jsonl_cli import import_aar_cmd, prepare_imported_cmd  # noqa: E402

w2s_app.command("import-aar")(import_aar_cmd)
w2s_app.command("prepare-imported")(prepare_imported_cmd)

from aar.server.cli import serve_cmd  # noqa: E402

app.command("serve")(serve_cmd)

from aar.agents.agents_cli import agents_app  # noqa: E402
from aar.agents.mcp.cli import mcp_app  # noqa: E402
from aar.sandbox.cli import sandbox_app  # noqa: E402

app.add_typer(sandbox_app, name="sandbox")
app.add_typer(mcp_app, name="mcp")
app.add_typer(agents_app, name="agents")

from aar.supervisor.cli import run_cmd  # noqa: E402

app.command("run")(run_cmd)

from aar.report.cli import demo_cmd, report_cmd, resume_cmd  # noqa: E402

app.command("demo")(demo_cmd)
app.command("report")(report_cmd)
app.command("resume")(resume_cmd)

from aar.supervisor.export import export_cmd  # noqa: E402

app.command("export")(export_cmd)
