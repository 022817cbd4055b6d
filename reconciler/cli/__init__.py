"""The ``portalctl`` command line: parse, call one core function, map the result to an exit code.

Commands live in sibling modules and are imported only when used, so ``portalctl --help``
stays fast; a command module must not import httpx, deepdiff, jsonschema or starlette at
module level.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from reconciler import __version__, logs
from reconciler.errors import ExitCode, InternalError, ReconcilerError, SpecError
from reconciler.textsafe import plural, safe_line

#: command name -> "module:attribute", imported on first use.
COMMANDS: dict[str, str] = {
    "validate": "reconciler.cli.validate:validate",
    "plan": "reconciler.cli.reconcile:plan",
    "apply": "reconciler.cli.reconcile:apply",
    "drift": "reconciler.cli.reconcile:drift",
    "show": "reconciler.cli.reconcile:show",
    "export": "reconciler.cli.reconcile:export",
    "init": "reconciler.cli.init:init",
    "preview": "reconciler.cli.preview:preview",
    "sandbox": "reconciler.cli.sandbox:sandbox",
}

#: command name -> its one-line help, so ``portalctl --help`` lists the commands without
#: importing them; a test holds each equal to the command's own first docstring line.
SHORT_HELP: dict[str, str] = {
    "validate": "Check portal.yaml files offline: YAML, schema, files they name, and lint rules.",
    "plan": "Show what apply would change on the portal (reads only; never writes).",
    "apply": "Make the portal match SPEC, or apply a saved PLAN.json exactly.",
    "drift": "Read-only check for scheduled CI: exit 0 when the portal matches SPEC, 2 when not.",
    "show": "Print saved plans exactly as `plan` printed them, without contacting the portal.",
    "preview": "Render the portal and its emails before and after apply, for reviewers.",
    "export": "Write the live portal as portal.yaml (+ templates, logo): export then plan = no changes.",  # noqa: E501
    "init": "Write a starter portal.yaml, its templates and GitHub workflows into DIRECTORY.",
    "sandbox": "The sandbox portal: the portal API served from a local SQLite file.",
}

_state: dict[str, Any] = {"debug": bool(os.environ.get("PORTALCTL_DEBUG"))}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # From the table, so --help imports no command module.
        with formatter.section("Commands"):
            formatter.write_dl([(name, SHORT_HELP.get(name, "")) for name in COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name, attr = entry.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None
            raise
        command: click.Command = getattr(module, attr)
        return command


CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="portalctl")
@click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors.")
@click.option("--log-level", type=click.Choice(logs.LEVELS),
              default=lambda: os.environ.get("PORTALCTL_LOG_LEVEL", "warning"),
              show_default="warning, or $PORTALCTL_LOG_LEVEL",
              help="Lowest level of log lines written to stderr.")  # fmt: skip
@click.option("--log-format", type=click.Choice(["auto", "human", "json"]), default="auto",
              show_default=True,
              help="auto: JSON lines when CI=true, human text otherwise.")  # fmt: skip
def cli(debug: bool, log_level: str, log_format: str) -> None:
    """GitOps for the payments Customer Portal: validate, plan and apply portal.yaml.

    \b
    Exit codes: 0 ok / no changes, 1 unexpected error, 2 changes present
    (--detailed-exitcode), 3 invalid spec or usage, 4 conflict, 5 partial apply,
    6 API unreachable or key rejected.
    """
    _state["debug"] = _state["debug"] or debug
    # stdlib logging (~3 ms) is set up only before httpx, asyncio or uvicorn is used
    # (logs.route_stdlib): tests/unit/test_cold_imports.py holds validate and plan to it.
    logs.configure(level=log_level, log_format=log_format)


def report(err: ReconcilerError | InternalError) -> None:
    """Write an expected error to stderr: one line, or one line per spec diagnostic.

    Every line goes through ``logs.redact_text``: whatever a message quotes (a URL, a
    server's answer), a registered secret or a key-shaped value is never printed."""
    if isinstance(err, SpecError):
        for diag in err.diagnostics:
            click.echo(logs.redact_text(safe_line(str(diag))), err=True)
        errors = sum(1 for d in err.diagnostics if d.severity.value == "error")
        click.echo(
            f"portalctl: error: {err.diagnostics[0].origin.file}: invalid spec "
            f"({plural(errors, 'error')})",
            err=True,
        )
        return
    click.echo(logs.redact_text(safe_line(f"portalctl: error: {err}")), err=True)


def _traceback() -> str:
    import traceback  # ~7 ms (linecache, tokenize, inspect): only for --debug

    return traceback.format_exc()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script: exits with the exit code. A short-lived process:
    the cycle collector runs rarely (imports allocate much, free little) and what is left
    at exit is frozen, so shutdown does not trace it all again (~25 ms of `plan`)."""
    import gc

    gc.set_threshold(50_000)  # Python's default: 700 allocations
    code = run(argv)
    gc.freeze()
    sys.exit(code)


def run(argv: list[str] | None = None) -> int:
    try:
        result = cli.main(args=argv, prog_name="portalctl", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:  # pragma: no cover - click >= 8.2
        click.echo(exc.ctx.get_help() if exc.ctx else str(exc), err=True)
        return ExitCode.INVALID
    except click.UsageError as exc:
        # click exits 2 on usage errors; 2 means "changes present" to CI, so remap to 3.
        # One line like every other error, instead of click's usage block.
        where = exc.ctx.command_path if exc.ctx is not None else "portalctl"
        message = exc.format_message().rstrip(".")
        click.echo(f"portalctl: error: {message}; see `{where} --help`", err=True)
        return ExitCode.INVALID
    except click.exceptions.Abort:
        click.echo("portalctl: aborted", err=True)
        return ExitCode.ERROR
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return ExitCode.INVALID
    except (ReconcilerError, InternalError) as err:
        if _state["debug"]:
            click.echo(logs.redact_text(_traceback()), err=True, nl=False)
        report(err)
        return err.exit_code
    except KeyboardInterrupt:
        click.echo("portalctl: interrupted", err=True)
        return 130
    except Exception as exc:  # a bug: say so plainly, traceback only with --debug
        if _state["debug"]:
            click.echo(logs.redact_text(_traceback()), err=True, nl=False)
        else:
            click.echo(
                logs.redact_text(
                    f"portalctl: internal error: {type(exc).__name__}: {exc} "
                    "(run with --debug for a traceback, and please report it)"
                ),
                err=True,
            )
        return ExitCode.ERROR
    return int(result or 0)
