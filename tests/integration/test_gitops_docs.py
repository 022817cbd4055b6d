"""The README's Reference names every command, flag, exit code, environment variable and
action input; its "GitOps in five minutes" promises match the files it describes."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
import yaml

from reconciler.cli import COMMANDS, cli
from reconciler.errors import ExitCode

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")


def readme_section(title: str, text: str = README, level: int = 2) -> str:
    """The body of the heading ``title`` at ``level`` (up to the next heading at that level)."""
    hashes = "#" * level
    match = re.search(rf"^{hashes} {re.escape(title)}\n(.*?)(?=^{hashes} |\Z)", text, re.M | re.S)
    assert match, f"README.md has no section '{hashes} {title}'"
    return match.group(1)


REFERENCE = readme_section("Reference")
GITOPS = readme_section("GitOps in five minutes")


def section(title: str) -> str:
    return readme_section(title, REFERENCE, level=3)


def commands() -> list[tuple[str, click.Command]]:
    ctx = click.Context(cli)
    out: list[tuple[str, click.Command]] = []
    for name in COMMANDS:
        command = cli.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            out += [(f"{name} {sub}", command.commands[sub]) for sub in command.commands]
        else:
            out.append((name, command))
    return out


def option_names(command: click.Command) -> list[str]:
    return [
        name
        for param in command.params
        if isinstance(param, click.Option)
        for name in (*param.opts, *param.secondary_opts)
    ]


@pytest.mark.parametrize(("name", "command"), commands(), ids=[n for n, _ in commands()])
def test_reference_names_every_flag_of_every_command(name: str, command: click.Command) -> None:
    text = section(name)
    missing = [opt for opt in option_names(command) if f"`{opt}" not in text]
    assert missing == [], f"### {name} in the README's Reference does not name {missing}"
    for param in command.params:
        if isinstance(param.type, click.Choice):
            for choice in param.type.choices:
                assert str(choice) in text, (name, param.name, choice)


def test_reference_names_the_global_options() -> None:
    text = section("Global options")
    missing = [opt for opt in option_names(cli) if f"`{opt}" not in text]
    assert missing == []


def test_reference_lists_every_exit_code() -> None:
    text = section("Exit codes")
    codes = {value for key, value in vars(ExitCode).items() if key.isupper()}
    assert codes == {0, 1, 2, 3, 4, 5, 6}
    for code in codes:
        assert re.search(rf"^\| {code} \|", text, re.M), code


def test_reference_lists_every_environment_variable_the_package_reads() -> None:
    names: set[str] = set()
    for path in (REPO / "reconciler").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        names.update(re.findall(r"environ(?:\.get)?\(\s*\"([A-Z][A-Z0-9_]+)\"", source))
        names.update(re.findall(r"\"([A-Z][A-Z0-9_]+)\" (?:not )?in os\.environ", source))
        names.update(re.findall(r"^[A-Z_]+_ENV = \"([A-Z][A-Z0-9_]+)\"", source, re.M))
    assert {"PORTAL_API_URL", "PORTAL_API_KEY", "PORTALCTL_DEBUG"} <= names
    text = section("Environment variables")
    missing = sorted(name for name in names if f"`{name}`" not in text)
    assert missing == []


def test_reference_lists_the_action_inputs_and_outputs() -> None:
    action = yaml.safe_load((REPO / "action.yml").read_text(encoding="utf-8"))
    text = section("GitHub Action (`action.yml`)")
    for name in [*action["inputs"], *action["outputs"]]:
        assert f"| `{name}` |" in text, name
    for name, spec in action["inputs"].items():
        if spec.get("default"):
            assert f"| `{name}` | `{spec['default']}` |" in text, name


def test_gitops_guide_matches_the_workflows() -> None:
    workflows = REPO / "examples" / "github" / ".github" / "workflows"
    plan = (workflows / "portal-plan.yml").read_text(encoding="utf-8")
    drift = yaml.safe_load((workflows / "portal-drift.yml").read_text())
    assert "<!-- portalctl-plan -->" in GITOPS and "<!-- portalctl-plan -->" in plan
    cron = drift[True]["schedule"][0]["cron"]
    minute, hour = cron.split()[:2]
    assert f"daily {int(hour):02d}:{int(minute):02d} UTC" in GITOPS
    assert "portal-drift" in GITOPS
