"""``portalctl validate SPEC... [--strict] [--format text|json]``.

A SPEC is a file, a directory (its ``*.yaml``/``*.yml``) or a glob pattern, as for the
other fleet commands.

Checks every file (one failing does not stop the others) without contacting any portal.
text: diagnostics on stderr, one summary line per file on stdout. json: one document on
stdout. Exit 0 when all are valid, 3 when any has an error (or a warning with --strict)
or cannot be read, 1 when checking a file met an unexpected error (a bug; the others are
still checked).
"""

from __future__ import annotations

import click

from reconciler.errors import ExitCode


@click.command("validate")
@click.argument("files", nargs=-1, metavar="[SPEC]...")
@click.option("--strict", is_flag=True, help="Fail on warnings too (notices never fail).")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="text: diagnostics on stderr, a summary per file on "
              "stdout; json: one document on stdout.")  # fmt: skip
@click.option("--shard", metavar="K/N", help="Check shard K of N only (a stable split by path).")
@click.pass_context
def validate(ctx: click.Context, files: tuple[str, ...], strict: bool, output_format: str,
             shard: str | None) -> None:  # fmt: skip
    """Check portal.yaml files offline: YAML, schema, files they name, and lint rules.

    SPEC defaults to ./portal.yaml; a folder or a glob checks every spec in it.

    \b
    Exit codes: 0 all valid (warnings are printed), 3 any error (or warning with
    --strict), or a file that cannot be read.
    """
    from reconciler.cli import _state
    from reconciler.textsafe import json_text
    from reconciler.validation import check_file, expand

    debug = bool(_state["debug"])
    results = [check_file(file, strict=strict, debug=debug) for file in expand(files, shard)]
    if output_format == "json":
        import json  # ~2 ms: text output (the default) never needs it

        for result in results:
            if result.error is not None:
                click.echo(f"portalctl: error: {result.error}", err=True)
        document = {"version": 1, "files": [r.to_dict() for r in results]}
        click.echo(json_text(json.dumps(document, indent=2, ensure_ascii=False)))
    else:
        for result in results:
            if result.error is not None:
                click.echo(f"portalctl: error: {result.error}", err=True)
                continue
            for diagnostic in result.diagnostics:
                click.echo(str(diagnostic), err=True)
            click.echo(result.summary(strict))
    if any(r.internal for r in results):
        ctx.exit(ExitCode.ERROR)  # a bug must not pass for "invalid spec"
    ctx.exit(ExitCode.OK if all(r.valid for r in results) else ExitCode.INVALID)
