"""``portalctl plan | drift | apply | show | export``: parse, call ``reconciler.reconcile``, render.

One path for one portal or many: the core returns one ``PortalRun`` per portal, the renderers
print them (one portal exactly as ever, several under headers plus a summary), and the exit
code comes from ``reconcile.exit_code``. Plans and apply results go to stdout; the target,
diagnostics, progress and errors to stderr.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from reconciler.errors import ExitCode, PartialApplyError, ReconcilerError, UsageError
from reconciler.render import FORMATS, plural

if TYPE_CHECKING:
    from reconciler.apply import WriteStep
    from reconciler.reconcile import Connection, PortalRun, Sources

PROMPT = "Do you want to apply these changes? Only 'yes' will be accepted"


def _options(*decorators: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def wrap(func: Any) -> Any:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return wrap


_sources = click.argument("sources", metavar="[SPEC]...", nargs=-1)
_format = click.option("--format", "fmt", type=click.Choice(FORMATS), default="text",
                       show_default=True, help="How to print the plan on stdout.")  # fmt: skip
_changes = click.option("--detailed-exitcode", is_flag=True,
                        help="Exit 2 (instead of 0) when a plan has changes.")  # fmt: skip
_connection = _options(
    click.option("--api-url", metavar="URL", help="Portal API base URL (overrides the spec's "
                 "target and $PORTAL_API_URL); `sandbox` for the embedded sandbox."),
    click.option("--insecure", is_flag=True, help="Allow plain http:// to a non-loopback host."),
)  # fmt: skip
_fleet = _options(
    click.option("--parallelism", default=8, show_default=True, type=click.IntRange(min=1),
                 metavar="N", help="With several specs: how many portals to work on at once."),
    click.option("--shard", metavar="K/N",
                 help="Work on shard K of N only (a stable split of the specs by path)."),
)  # fmt: skip


def _connection_of(api_url: str | None, insecure: bool, *, ci_sandbox: bool = True) -> Connection:
    from reconciler.reconcile import Connection

    return Connection(api_url=api_url, insecure=insecure, implicit_sandbox_in_ci=ci_sandbox)


def _expand(args: Sequence[str], shard: str | None, *, plans: bool = False) -> Sources:
    from reconciler.sources import Shard, expand_sources

    return expand_sources(args, plans=plans, shard=Shard.parse(shard) if shard else None)


def _echo(lines: Sequence[str], *, err: bool = True) -> None:
    for line in lines:
        click.echo(line, err=err)


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


def _render(runs: Sequence[PortalRun], fmt: str, **options: Any) -> str:
    from reconciler.render import render_runs

    colour = fmt == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    return render_runs(runs, fmt, color=colour, **options)


def _plan(sources: Sources, conn: Connection, parallelism: int) -> list[PortalRun]:
    """Plan every source (progress on stderr), then say where each portal is and what the
    spec's lint found. With one portal, its error is raised here, as for any command."""
    from reconciler.cli.wiring import Progress, with_session
    from reconciler.reconcile import plan_runs, prepare_runs, runtime_of
    from reconciler.render.report import planned_lines

    if len(sources.paths) != 1:
        verb = "loading" if sources.saved_plans else "planning"
        click.echo(f"portalctl: fleet: {verb} {plural(len(sources.paths), 'portal')} "
                   f"(parallelism {parallelism})", err=True)  # fmt: skip
    progress = Progress(len(sources.paths), label="planning")
    # One portal: load it first, to learn whether it is the embedded sandbox (the inline
    # runtime, no event loop); a fleet loads each spec in its job, overlapping network waits.
    prepared = prepare_runs(sources, conn) if len(sources.paths) == 1 else None
    runs = with_session(runtime_of(prepared), lambda api: plan_runs(
        sources, conn, api, parallelism=parallelism, on_done=progress, prepared=prepared,
    ), parallelism=parallelism)  # fmt: skip
    _echo(planned_lines(runs, annotate=bool(os.environ.get("GITHUB_ACTIONS"))))
    if len(runs) == 1 and runs[0].error is not None and runs[0].plan is None:
        raise runs[0].error
    return runs


def _finish(runs: Sequence[PortalRun], *, apply: bool = False) -> None:
    """The fleet summary (several portals), or the one portal's error, raised."""
    from reconciler.render.fleet import summary_lines

    if len(runs) != 1:
        _echo(summary_lines(runs, apply=apply))
    elif runs[0].error is not None:
        raise runs[0].error


def _show(runs: Sequence[PortalRun], fmt: str, *, changes: bool, **markdown: Any) -> int:
    from reconciler.reconcile import exit_code

    click.echo(_render(runs, fmt, **markdown), nl=False)
    _step_summary(_render(runs, "markdown", **markdown))
    _finish(runs)
    return exit_code(runs, changes=changes)


@click.command()
@_sources
@click.option("--out", type=click.Path(path_type=Path),
              help="Also save the plan file (JSON) here, for `portalctl apply PLAN`; with "
              "several specs, a folder receiving one <spec stem>.plan.json per spec.")  # fmt: skip
@_format
@_changes
@_fleet
@_connection
def plan(sources: tuple[str, ...], out: Path | None, fmt: str, detailed_exitcode: bool,
         parallelism: int, shard: str | None, api_url: str | None,
         insecure: bool) -> int:  # fmt: skip
    """Show what apply would change on the portal (reads only; never writes).

    SPEC defaults to ./portal.yaml. Several SPECs, a folder of them or a glob plan a fleet:
    each portal under its own header, then one summary; failures do not stop the others.
    """
    from reconciler.planfile import plan_file_names, save_runs

    found = _expand(sources, shard)
    one_file = out is not None and len(found.paths) == 1 and not found.found and not out.is_dir()
    if out is not None and not one_file:
        plan_file_names(found.paths)  # refuses clashing names before anything is planned
    runs = _plan(found, _connection_of(api_url, insecure), parallelism)
    if out is not None:
        _echo(save_runs(runs, out, one_file=one_file))
    return _show(runs, fmt, changes=detailed_exitcode)


@click.command()
@_sources
@_format
@_fleet
@_connection
def drift(sources: tuple[str, ...], fmt: str, parallelism: int, shard: str | None,
          api_url: str | None, insecure: bool) -> int:  # fmt: skip
    """Read-only check for scheduled CI: exit 0 when the portal matches SPEC, 2 when not.

    Several SPECs (or a folder, or a glob) check a fleet: 2 when any portal drifted.
    """
    conn = _connection_of(api_url, insecure, ci_sandbox=False)
    return _show(_plan(_expand(sources, shard), conn, parallelism), fmt, changes=True, drift=True)


@click.command()
@click.argument("plans", metavar="PLAN.json|DIR...", nargs=-1, required=True)
@_format
@_changes
@click.option("--preview-link", metavar="URL",
              help="Link the Markdown plan to the preview artifact at URL.")  # fmt: skip
def show(plans: tuple[str, ...], fmt: str, detailed_exitcode: bool,
         preview_link: str | None) -> int:  # fmt: skip
    """Print saved plans exactly as `plan` printed them, without contacting the portal.

    Several plan files (or the folders `plan --out DIR` wrote, e.g. one per shard) are merged
    into one rendering and one exit code.
    """
    from reconciler.reconcile import saved_runs

    runs = saved_runs(_expand(plans, None, plans=True))
    return _show(runs, fmt, changes=detailed_exitcode, preview_link=preview_link)


@click.command()
@click.argument("sources", metavar="[SPEC | PLAN.json]...", nargs=-1)
@click.option("--auto-approve", is_flag=True, help="Apply SPECs without asking for 'yes'.")
@click.option("--allow-disruptive", "--force", "allow_disruptive", is_flag=True,
              help="Allow disruptive changes (disabling the portal, turning off "
              "payment-method updates, invoice downloads or payment history).")  # fmt: skip
@_fleet
@_connection
def apply(sources: tuple[str, ...], auto_approve: bool, allow_disruptive: bool, parallelism: int,
          shard: str | None, api_url: str | None, insecure: bool) -> int:  # fmt: skip
    """Make the portal match SPEC, or apply a saved PLAN.json exactly.

    With a SPEC: plan, show it, ask for 'yes' (unless --auto-approve), write, verify.
    With a plan file: no prompt; refused (exit 4, nothing written) if the portal or a file
    it uses changed since it was made. Several SPECs (a folder, a glob) or plan files (the
    folder `plan --out DIR` wrote) apply a fleet: all plans are shown, one 'yes' applies
    them all, a failure stops only its own portal.
    """
    from reconciler.cli.wiring import Progress, with_session
    from reconciler.reconcile import apply_runs, exit_code, refuse, runtime_of
    from reconciler.render.report import applied_lines, apply_summary

    found = _expand(sources, shard, plans=True)
    many = len(found.paths) != 1
    runs = _plan(found, _connection_of(api_url, insecure, ci_sandbox=False), parallelism)
    try:
        runs = refuse(runs, allow_disruptive=allow_disruptive)
        click.echo(_render(runs, "text"), nl=False)
        if not many:
            _finish(runs)
    except ReconcilerError as err:
        if len(runs) == 1 and runs[0].plan is not None:
            _step_summary(apply_summary(runs, refused=err))
        raise
    todo = [r for r in runs if r.error is None and (r.has_changes or r.live is None)]
    if not todo and not many:
        _step_summary(_render(runs, "markdown"))
        return ExitCode.OK
    if todo and not found.saved_plans and not auto_approve:
        if many:
            click.echo(f"portalctl: fleet: {len(todo):,} of {plural(len(runs), 'portal')} "
                       "have changes to apply")  # fmt: skip
        _confirm()

    def wrote(run: PortalRun, step: WriteStep) -> None:
        names = ", ".join(c.field for c in step.changes if c.field)
        where = f"{run.source}: " if many else ""
        click.echo(f"{where}{step.resource}: {step.action.value} done"
                   f"{f' ({names})' if names else ''}")  # fmt: skip

    progress, planned = Progress(len(todo) if many else 0, label="applying"), runs
    runs = with_session(runtime_of(planned), lambda api: apply_runs(
        planned, api, allow_disruptive=allow_disruptive, parallelism=parallelism,
        on_write=wrote, on_done=progress), parallelism=parallelism)  # fmt: skip
    stdout, stderr = applied_lines(runs)
    _echo(stdout, err=False)
    _echo(stderr)
    last = runs[0].error if not many else None
    refused = last if last is not None and not isinstance(last, PartialApplyError) else None
    _step_summary(apply_summary(runs, refused=refused))
    _finish(runs, apply=True)
    return exit_code(runs)


def _stdin_is_tty() -> bool:
    return sys.stdin.isatty()


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


@click.command()
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              default=Path("."), show_default=True,
              help="Folder to write portal.yaml, templates/ and assets/ into.")  # fmt: skip
@click.option("--force", is_flag=True, help="Overwrite existing files.")
@_connection
def export(out_dir: Path, force: bool, api_url: str | None, insecure: bool) -> int:
    """Write the live portal as portal.yaml (+ templates, logo): export then plan = no changes."""
    from reconciler.api.runtime import runtime_for
    from reconciler.cli.wiring import with_session
    from reconciler.reconcile import export as export_core

    target = _connection_of(api_url, insecure, ci_sandbox=False).resolve(None)
    click.echo(f"portalctl: target: {target.describe()}", err=True)

    written = with_session(
        runtime_for([target.url]), lambda api: export_core(api, target, out_dir, force=force)
    )
    _echo([f"wrote {path}" for path in written], err=False)
    return ExitCode.OK
