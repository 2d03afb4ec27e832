"""``hub`` loads a command's module when the command runs: an ingest worker does not import the web app."""

import json
import subprocess
import sys

import click
from click.testing import CliRunner

from hub.cli import COMMANDS, main

#: What `hub ingest` must not load: the dashboard, its web framework, the reports and the simulator.
NOT_FOR_INGEST = (
    "fastapi",
    "jinja2",
    "uvicorn",
    "hub.web.app",
    "hub.reports.queries",
    "hub.devtools.simulate",
)


def test_every_command_is_found_under_its_name() -> None:
    context = click.Context(main)
    names = {name: main.get_command(context, name) for name in main.list_commands(context)}
    assert sorted(names) == sorted(COMMANDS)
    assert {name: command.name for name, command in names.items() if command} == {n: n for n in COMMANDS}
    assert main.get_command(context, "ingets") is None


def test_help_lists_every_command_and_a_typo_is_refused() -> None:
    runner = CliRunner()
    listed = runner.invoke(main, ["--help"])
    assert listed.exit_code == 0
    assert all(f"  {name} " in listed.output for name in COMMANDS)
    typo = runner.invoke(main, ["ingets"])
    assert typo.exit_code == 2
    assert "No such command 'ingets'" in typo.output


def test_ingest_worker_imports_no_web_app_reports_or_simulator() -> None:
    code = (
        "import json, sys, click\n"
        "from hub.cli import main\n"
        "main.get_command(click.Context(main), 'ingest')\n"
        f"print(json.dumps(sorted(m for m in {NOT_FOR_INGEST!r} if m in sys.modules)))\n"
        "print(json.dumps('hub.ingest.worker' in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded, worker = result.stdout.splitlines()
    assert json.loads(loaded) == []
    assert json.loads(worker) is True
