"""``portalctl sandbox serve``: the sandbox portal as a real HTTP server."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def sandbox() -> None:
    """The sandbox portal: the portal API served from a local SQLite file."""


@sandbox.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to bind; 0 picks a free port (the ready line names it).",
)
@click.option(
    "--db",
    "db_path",
    default=".portal/sandbox.db",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="SQLite file (created if missing).",
)
@click.option(
    "--api-key",
    "api_keys",
    multiple=True,
    metavar="KEY",
    help="Accept this key (repeatable; each key is its own portal). "
    "Default: the built-in sandbox key.",
)
@click.option("--any-key", is_flag=True, help="Accept any well-formed sk_test_/sk_live_ key.")
@click.option(
    "--public",
    is_flag=True,
    help="Allow binding to a non-loopback address. The /_sandbox/ admin routes then "
    "need a key given with --api-key (closed without one).",
)
@click.option("--latency-ms", default=0, type=click.IntRange(min=0), help="Delay per request.")
@click.option(
    "--error-rate", default=0.0, type=click.FloatRange(0, 1), help="Share of requests that get 500."
)
@click.option(
    "--drop-rate",
    default=0.0,
    type=click.FloatRange(0, 1),
    help="Share of requests whose connection is reset without a response.",
)
@click.option(
    "--rate-limit",
    default=None,
    type=click.FloatRange(min=0, min_open=True),
    help="Requests per second per key; beyond it 429 with Retry-After.",
)
@click.option("--seed", default=None, type=int, help="Seed for reproducible fault injection.")
def serve(host: str, port: int, db_path: Path, api_keys: tuple[str, ...], any_key: bool,
          public: bool, latency_ms: int, error_rate: float, drop_rate: float,
          rate_limit: float | None, seed: int | None) -> None:  # fmt: skip
    """Serve the portal API over HTTP until interrupted (Ctrl+C).

    Prints one line when ready, naming the key it accepts (never a key you passed), e.g.
    `sandbox listening on http://127.0.0.1:8765 (db .portal/sandbox.db; key sk_test_sandbox)`.
    Faults can also be changed at run time: PUT /_sandbox/faults with a JSON object
    (with --public, the /_sandbox/ admin routes need a key given with --api-key).
    """
    from reconciler.sandbox.server import run

    faults = {"latency_ms": latency_ms, "error_rate": error_rate, "drop_rate": drop_rate,
              "rate_limit": rate_limit, "seed": seed}  # fmt: skip
    run(db_path, host=host, port=port, api_keys=api_keys, any_key=any_key, public=public,
        faults=faults, on_ready=click.echo)  # fmt: skip
