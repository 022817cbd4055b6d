"""``portalctl sandbox serve``: the sandbox portal as a real HTTP server."""

from __future__ import annotations

import ipaddress
import sqlite3
from pathlib import Path

import click

from reconciler.errors import UsageError

LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}


def _is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _accepted_keys(api_keys: tuple[str, ...], *, any_key: bool) -> str:
    """What the ready line says about keys: the public sandbox key by name, never a key the
    user passed (it may be a real secret pasted by mistake): those are counted, not shown."""
    from reconciler.sandbox import SANDBOX_KEY

    parts: list[str] = []
    if api_keys:
        distinct = len(set(api_keys))
        parts.append(
            "key: the one given with --api-key"
            if distinct == 1
            else f"keys: the {distinct} given with --api-key"
        )
    elif not any_key:
        parts.append(f"key {SANDBOX_KEY}")
    if any_key:
        parts.append("any sk_test_/sk_live_ key")
    return "; ".join(parts)


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
    help="Allow binding to a non-loopback address. The /_sandbox/ admin routes then need a "
    "key given with --api-key (closed without one).",
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
def serve(
    host: str,
    port: int,
    db_path: Path,
    api_keys: tuple[str, ...],
    any_key: bool,
    public: bool,
    latency_ms: int,
    error_rate: float,
    drop_rate: float,
    rate_limit: float | None,
    seed: int | None,
) -> None:
    """Serve the portal API over HTTP until interrupted (Ctrl+C).

    Prints one line when ready, naming the key it accepts (never a key you passed), e.g.
    `sandbox listening on http://127.0.0.1:8765 (db .portal/sandbox.db; key sk_test_sandbox)`.
    Faults can also be changed at run time: PUT /_sandbox/faults with a JSON object
    (with --public, the /_sandbox/ admin routes need a key given with --api-key).
    """
    from reconciler.sandbox import Faults, create_app
    from reconciler.sandbox.server import serve as run_server

    if not public and not _is_loopback(host):
        raise UsageError(
            f"refusing to serve the sandbox on non-loopback address {host}",
            hint="use --host 127.0.0.1, or pass --public to expose it on purpose",
        )
    try:
        faults = Faults(
            latency_ms=latency_ms,
            error_rate=error_rate,
            drop_rate=drop_rate,
            rate_limit=rate_limit,
            seed=seed,
        )
        app = create_app(
            db_path,
            api_keys=api_keys or None,
            any_key=any_key,
            faults=faults,
            admin_needs_key=public,
        )
    except ValueError as exc:
        raise UsageError(f"sandbox serve: {exc}") from exc
    except (OSError, sqlite3.Error) as exc:
        raise UsageError(
            f"cannot open the sandbox database {db_path}: {exc}",
            hint="pick a writable path with --db",
        ) from exc

    accepts = _accepted_keys(api_keys, any_key=any_key)

    def ready(url: str) -> None:
        click.echo(f"sandbox listening on {url} (db {db_path}; {accepts})")

    try:
        run_server(app, host=host, port=port, on_ready=ready)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}",
            hint="pick another --port, or --port 0 for a free one",
        ) from exc
    finally:
        app.state.sandbox.store.close()
