"""``portalctl plan | apply | drift | export``: parse, call ``reconciler.reconcile``, render.

Heavy modules (httpx, deepdiff, starlette) are imported inside the commands, never here.
Plans and apply progress go to stdout; the target announcement, diagnostics and errors to stderr.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from reconciler.errors import ExitCode, PartialApplyError, ReconcilerError, UsageError
from reconciler.render import FORMATS

if TYPE_CHECKING:
    from reconciler.apply import WriteStep
    from reconciler.model import Diagnostic, LiveState, Target
    from reconciler.plan import Plan
    from reconciler.reconcile import Connection

PROMPT = "Do you want to apply these changes? Only 'yes' will be accepted"

_format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="How to print the plan on stdout.",
)
_api_url_option = click.option(
    "--api-url",
    metavar="URL",
    help="Portal API base URL (overrides the spec's target and $PORTAL_API_URL).",
)
_insecure_option = click.option(
    "--insecure", is_flag=True, help="Allow plain http:// to a non-loopback host."
)
_parallelism_option = click.option(
    "--parallelism",
    default=8,
    show_default=True,
    type=click.IntRange(min=1),
    metavar="N",
    help="With several specs: how many portals to work on at once.",
)


def _connection(api_url: str | None, insecure: bool) -> Connection:
    from reconciler.reconcile import Connection

    return Connection(api_url=api_url, insecure=insecure)


def announce(target: Target) -> None:
    click.echo(f"portalctl: target: {target.describe()}", err=True)


def _print_diagnostics(diagnostics: list[Diagnostic]) -> None:
    for diag in diagnostics:
        click.echo(str(diag), err=True)


def _use_colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _stdin_is_tty() -> bool:
    return sys.stdin.isatty()


def _render(plan: Plan, fmt: str) -> str:
    from reconciler.render import render_plan

    return render_plan(plan, fmt, color=fmt == "text" and _use_colour())


def _step_summary(markdown: str) -> None:
    """Append to $GITHUB_STEP_SUMMARY when GitHub Actions provides one."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(markdown.rstrip("\n") + "\n\n")
    except OSError as exc:
        raise UsageError(f"$GITHUB_STEP_SUMMARY ({path}): cannot append: {exc.strerror}") from exc


def _plan_fleet(
    specs: tuple[str, ...],
    conn: Connection,
    *,
    fmt: str,
    out: Path | None,
    parallelism: int,
    changes_code: bool,
) -> int:
    from reconciler.cli.reconcile_fleet import plan_fleet_command

    return plan_fleet_command(
        specs,
        conn,
        fmt=fmt,
        out=out,
        parallelism=parallelism,
        changes_code=changes_code,
        color=fmt == "text" and _use_colour(),
        step_summary=_step_summary,
    )


def _show_plan(
    specs: tuple[str, ...],
    conn: Connection,
    *,
    fmt: str,
    out: Path | None,
    parallelism: int,
    changes_code: bool,
) -> int:
    """plan and drift: plan one portal or a fleet, print it, save it to ``out`` if given,
    append it to the GitHub step summary; exit 2 on changes when ``changes_code``."""
    from reconciler.reconcile import PLAN_SUFFIX, save_plan, single_spec

    spec = single_spec(specs)
    if spec is None:
        return _plan_fleet(
            specs, conn, fmt=fmt, out=out, parallelism=parallelism, changes_code=changes_code
        )
    the_plan, _, _ = _plan_for(spec, conn)
    if out is not None:
        if out.is_dir():
            out = out / f"{spec.stem}{PLAN_SUFFIX}"
        save_plan(the_plan, out)
        click.echo(f"portalctl: plan saved to {out}", err=True)
    click.echo(_render(the_plan, fmt), nl=False)
    _step_summary(_render(the_plan, "markdown"))
    if changes_code and the_plan.has_changes:
        return ExitCode.CHANGES
    return ExitCode.OK


def _plan_for(spec: Path, conn: Connection) -> tuple[Plan, LiveState, Target]:
    from reconciler.api import run_sync
    from reconciler.reconcile import load, plan_spec

    desired, diagnostics = load(spec)
    target = conn.resolve(desired.target)
    announce(target)
    _print_diagnostics(diagnostics)
    planned = run_sync(plan_spec(desired, target, diagnostics=diagnostics))
    return planned.plan, planned.live, target


@click.command()
@click.argument("specs", metavar="[SPEC]...", nargs=-1)
@click.option(
    "--out",
    "out",
    type=click.Path(path_type=Path),
    help="Also save the plan file (JSON) here, for `portalctl apply PLAN`; with several "
    "specs, a folder receiving one <spec stem>.plan.json per spec.",
)
@_format_option
@click.option(
    "--detailed-exitcode", is_flag=True, help="Exit 2 (instead of 0) when the plan has changes."
)
@_parallelism_option
@_api_url_option
@_insecure_option
def plan(
    specs: tuple[str, ...],
    out: Path | None,
    fmt: str,
    detailed_exitcode: bool,
    parallelism: int,
    api_url: str | None,
    insecure: bool,
) -> int:
    """Show what apply would change on the portal (reads only; never writes).

    SPEC defaults to ./portal.yaml. Several SPECs, a folder of them or a glob plan a fleet:
    each portal under its own header, then one summary; failures do not stop the others.
    """
    return _show_plan(
        specs,
        _connection(api_url, insecure),
        fmt=fmt,
        out=out,
        parallelism=parallelism,
        changes_code=detailed_exitcode,
    )


@click.command()
@click.argument("specs", metavar="[SPEC]...", nargs=-1)
@_format_option
@_parallelism_option
@_api_url_option
@_insecure_option
def drift(
    specs: tuple[str, ...], fmt: str, parallelism: int, api_url: str | None, insecure: bool
) -> int:
    """Read-only check for scheduled CI: exit 0 when the portal matches SPEC, 2 when not.

    Several SPECs (or a folder, or a glob) check a fleet: 2 when any portal drifted.
    """
    return _show_plan(
        specs,
        _connection(api_url, insecure),
        fmt=fmt,
        out=None,
        parallelism=parallelism,
        changes_code=True,
    )


@click.command()
@click.argument("sources", metavar="[SPEC | PLAN.json]...", nargs=-1)
@click.option("--auto-approve", is_flag=True, help="Apply SPECs without asking for 'yes'.")
@click.option(
    "--allow-disruptive",
    "--force",
    "allow_disruptive",
    is_flag=True,
    help="Allow disruptive changes (disabling the portal, turning off "
    "payment-method updates, invoice downloads or payment history).",
)
@_parallelism_option
@_api_url_option
@_insecure_option
def apply(
    sources: tuple[str, ...],
    auto_approve: bool,
    allow_disruptive: bool,
    parallelism: int,
    api_url: str | None,
    insecure: bool,
) -> int:
    """Make the portal match SPEC, or apply a saved PLAN.json exactly.

    With a SPEC: plan, show it, ask for 'yes' (unless --auto-approve), write, verify.
    With a plan file: no prompt; refused (exit 4, nothing written) if the portal or a file
    it uses changed since it was made. Several SPECs (a folder, a glob) or plan files (the
    folder `plan --out DIR` wrote) apply a fleet: all plans are shown, one 'yes' applies
    them all, a failure stops only its own portal.
    """
    from reconciler.api import run_sync
    from reconciler.apply import refuse_disruptive
    from reconciler.reconcile import apply as apply_core
    from reconciler.reconcile import (
        check_plan_target,
        load_plan,
        looks_like_plan_file,
        single_spec,
    )

    conn = _connection(api_url, insecure)
    source = single_spec(sources)
    if source is None:
        from reconciler.cli.reconcile_fleet import apply_fleet_command

        return apply_fleet_command(
            sources,
            conn,
            auto_approve=auto_approve,
            allow_disruptive=allow_disruptive,
            parallelism=parallelism,
            confirm=_confirm,
            color=_use_colour(),
            step_summary=_step_summary,
        )
    live: LiveState | None = None
    if source.exists() and looks_like_plan_file(source):
        the_plan = load_plan(source)
        target = conn.resolve(the_plan.desired.target)
        announce(target)
        with _summarise_refusal(the_plan):
            check_plan_target(the_plan, target)
        click.echo(_render(the_plan, "text"), nl=False)
    else:
        the_plan, live, target = _plan_for(source, conn)
        click.echo(_render(the_plan, "text"), nl=False)
        if not the_plan.has_changes:
            _step_summary(_render(the_plan, "markdown"))
            return ExitCode.OK
        with _summarise_refusal(the_plan):
            if not allow_disruptive:
                refuse_disruptive(the_plan)
        if not auto_approve:
            _confirm()

    def progress(step: WriteStep) -> None:
        names = ", ".join(c.field for c in step.changes if c.field)
        what = f" ({names})" if names else ""
        click.echo(f"{step.resource}: {step.action.value} done{what}")

    try:
        with _summarise_refusal(the_plan):
            result = run_sync(
                apply_core(
                    the_plan,
                    target,
                    allow_disruptive=allow_disruptive,
                    live=live,
                    on_write=progress,
                )
            )
    except PartialApplyError as err:
        _report_partial(err)
        _step_summary(_render(the_plan, "markdown") + f"\n**Apply stopped part way:** {err}\n")
        raise
    click.echo(result.summary_line())
    _step_summary(_render(the_plan, "markdown") + f"\n**{result.summary_line()}**\n")
    from reconciler.render import after_apply_notes

    for note in after_apply_notes([the_plan]):
        click.echo(note, err=True)
    return ExitCode.OK


@contextmanager
def _summarise_refusal(plan: Plan) -> Iterator[None]:
    """A refusal before any write still leaves the plan and the reason in the GitHub step
    summary, so a failed CI apply explains itself on the run page."""
    try:
        yield
    except PartialApplyError:
        raise  # something was written: the caller lists what
    except ReconcilerError as err:
        _step_summary(
            _render(plan, "markdown")
            + f"\n**Apply refused (exit {err.exit_code}), nothing was written:** {err}\n"
        )
        raise


def _confirm() -> None:
    if not _stdin_is_tty():
        raise UsageError(
            "stdin is not a terminal, so apply cannot ask for confirmation",
            hint="pass --auto-approve to apply without asking (e.g. in CI), or apply a "
            "reviewed plan file: `portalctl apply plan.json`",
        )
    answer = click.prompt(PROMPT, default="", show_default=False, prompt_suffix=": ", err=False)
    if answer.strip() != "yes":
        raise ReconcilerError("apply cancelled: the answer was not 'yes'; nothing was written")


def _report_partial(err: PartialApplyError) -> None:
    click.echo("portalctl: applied before the failure:", err=True)
    for title in err.applied:
        click.echo(f"  ✓ {title}", err=True)
    click.echo("portalctl: NOT applied:", err=True)
    for title in err.not_applied:
        click.echo(f"  ✗ {title}", err=True)


@click.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="Folder to write portal.yaml, templates/ and assets/ into.",
)
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@_api_url_option
@_insecure_option
def export(out_dir: Path, force: bool, api_url: str | None, insecure: bool) -> int:
    """Write the live portal as portal.yaml (+ templates, logo): export then plan = no changes."""
    from reconciler.api import run_sync
    from reconciler.reconcile import export as export_core

    target = _connection(api_url, insecure).resolve(None)
    announce(target)
    written = run_sync(export_core(target, out_dir, force=force))
    for path in written:
        click.echo(f"wrote {path}")
    return ExitCode.OK
