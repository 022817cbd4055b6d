"""The CLI stays a thin composition root: small, and its --help table true to each command."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from reconciler.cli import COMMANDS, SHORT_HELP, LazyGroup, cli

CLI = Path(__file__).resolve().parents[2] / "reconciler" / "cli"


def test_the_cli_package_stays_under_800_lines() -> None:
    """Issue 9: orchestration lives in the core; the CLI parses, calls, renders, prompts."""
    lines = sum(len(p.read_text("utf-8").splitlines()) for p in CLI.glob("*.py"))
    assert lines <= 800, f"reconciler/cli/ has {lines} lines"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_table_says_what_each_command_says(name: str) -> None:
    assert isinstance(cli, LazyGroup)
    command = cli.get_command(click.Context(cli), name)
    assert command is not None and command.help is not None
    assert SHORT_HELP[name] == command.help.split("\n\n")[0].replace("\n", " ").strip()
