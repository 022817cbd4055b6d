"""The CLI root: exit-code mapping, error reporting, no tracebacks without --debug."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from reconciler import cli as cli_module
from reconciler.errors import ConflictError, ExitCode, SpecError
from reconciler.model import Diagnostic, Origin, Severity


def test_unknown_option_is_exit_3_not_click_default_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli_module.run(["--no-such-flag"])
    assert code == ExitCode.INVALID
    err = capsys.readouterr().err
    assert err == "portalctl: error: No such option '--no-such-flag'; see `portalctl --help`\n"


def test_unknown_command_is_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_module.run(["frobnicate"]) == ExitCode.INVALID
    assert capsys.readouterr().err == (
        "portalctl: error: No such command 'frobnicate'; see `portalctl --help`\n"
    )


def test_usage_error_in_a_command_names_that_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_module.run(["plan", "--format", "yaml"]) == ExitCode.INVALID
    assert capsys.readouterr().err == (
        "portalctl: error: Invalid value for '--format': 'yaml' is not one of 'text', 'json', "
        "'markdown'; see `portalctl plan --help`\n"
    )


def test_help_and_version_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_module.run(["--help"]) == 0
    assert "Exit codes: 0 ok / no changes" in capsys.readouterr().out
    assert cli_module.run(["--version"]) == 0
    assert capsys.readouterr().out.startswith("portalctl, version ")


@pytest.fixture
def boom_command(monkeypatch: pytest.MonkeyPatch) -> list[BaseException]:
    """Register a throwaway command that raises whatever the test puts in the list."""
    raised: list[BaseException] = []

    @click.command("boom")
    def boom() -> None:
        raise raised[0]

    monkeypatch.setitem(cli_module.COMMANDS, "boom", f"{__name__}:_BOOM")
    monkeypatch.setattr(sys.modules[__name__], "_BOOM", boom, raising=False)
    monkeypatch.setitem(cli_module._state, "debug", False)
    return raised


def test_reconciler_error_is_one_line_with_its_exit_code(
    boom_command: list[BaseException], capsys: pytest.CaptureFixture[str]
) -> None:
    boom_command.append(ConflictError("settings changed since the plan", resource="settings"))
    assert cli_module.run(["boom"]) == ExitCode.CONFLICT
    err = capsys.readouterr().err
    assert err == (
        "portalctl: error: settings changed since the plan; run `portalctl plan` again, "
        "review the new plan, then apply it\n"
    )


def test_spec_error_prints_every_diagnostic(
    boom_command: list[BaseException], capsys: pytest.CaptureFixture[str]
) -> None:
    diags = [
        Diagnostic(
            "schema",
            Severity.ERROR,
            Origin("p.yaml", 3, 5),
            "portal.enabled",
            "expected true or false",
        ),
        Diagnostic(
            "logo-missing",
            Severity.ERROR,
            Origin("p.yaml", 7, 11),
            "portal.branding.logo",
            "no such file: a.png",
            "check the path",
        ),
    ]
    boom_command.append(SpecError(diags))
    assert cli_module.run(["boom"]) == ExitCode.INVALID
    assert capsys.readouterr().err.splitlines() == [
        "p.yaml:3:5: error: portal.enabled: expected true or false [schema]",
        "p.yaml:7:11: error: portal.branding.logo: no such file: a.png; check the path "
        "[logo-missing]",
        "portalctl: error: p.yaml: invalid spec (2 errors)",
    ]


def test_bug_is_exit_1_without_traceback(
    boom_command: list[BaseException], capsys: pytest.CaptureFixture[str]
) -> None:
    boom_command.append(ZeroDivisionError("division by zero"))
    assert cli_module.run(["boom"]) == ExitCode.ERROR
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err == (
        "portalctl: internal error: ZeroDivisionError: division by zero "
        "(run with --debug for a traceback, and please report it)\n"
    )


def test_bug_with_debug_shows_traceback(
    boom_command: list[BaseException], capsys: pytest.CaptureFixture[str]
) -> None:
    boom_command.append(ZeroDivisionError("division by zero"))
    assert cli_module.run(["--debug", "boom"]) == ExitCode.ERROR
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_help_imports_no_heavy_module() -> None:
    """`portalctl --help` must stay fast: no httpx, deepdiff, jsonschema or starlette."""
    code = (
        "import sys\n"
        "from reconciler.cli import run\n"
        "rc = run(['--help'])\n"
        "heavy = sorted(m for m in ('httpx', 'deepdiff', 'jsonschema', 'starlette', 'uvicorn')"
        " if m in sys.modules)\n"
        "print(rc, heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "0 []"
