"""Fleet runner: discovery, bounded concurrency, isolation of failures, exit codes."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from reconciler.cli.wiring import Progress
from reconciler.errors import ApiAuthError, ConflictError, ExitCode, InternalError, UsageError
from tests.helpers import expand_specs, run_fleet


def make(tmp_path: Path, *names: str) -> list[Path]:
    out = []
    for name in names:
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("version: 1\n")
        out.append(p)
    return out


def test_expand_specs_files_dirs_globs_deduplicated(tmp_path: Path) -> None:
    b, _a, _txt = make(tmp_path, "portals/b.yaml", "portals/a.yml", "portals/notes.txt")
    single = make(tmp_path, "one.yaml")[0]
    got = expand_specs([str(tmp_path / "portals"), str(single), str(tmp_path / "portals/*.yaml")])
    assert got == [b.parent / "a.yml", b.parent / "b.yaml", single]


def test_expand_specs_errors_name_the_argument(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as err:
        expand_specs([str(tmp_path / "missing.yaml")])
    assert str(err.value) == (
        f"{tmp_path}/missing.yaml: no such file; check the path to your portal.yaml"
    )
    (tmp_path / "empty").mkdir()
    with pytest.raises(UsageError, match=r"no \.yaml or \.yml files in this directory"):
        expand_specs([str(tmp_path / "empty")])
    with pytest.raises(UsageError, match="no file matches this pattern"):
        expand_specs([str(tmp_path / "*.yaml")])


def test_run_fleet_bounds_concurrency_and_keeps_order(tmp_path: Path) -> None:
    specs = [tmp_path / f"p{i}.yaml" for i in range(20)]
    in_flight = 0
    peak = 0

    async def job(spec: Path) -> str:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.001)
        in_flight -= 1
        return spec.stem

    result = asyncio.run(run_fleet(specs, job, parallelism=4))
    assert peak == 4
    assert [o.value for o in result.outcomes] == [f"p{i}" for i in range(20)]
    assert result.exit_code() == ExitCode.OK


def test_one_failure_never_stops_the_others(tmp_path: Path) -> None:
    specs = [tmp_path / f"p{i}.yaml" for i in range(10)]

    async def job(spec: Path) -> bool:
        if spec.stem == "p3":
            raise ApiAuthError("the API key was rejected")
        if spec.stem == "p7":
            raise ConflictError("settings moved", resource="settings")
        return spec.stem == "p5"

    result = asyncio.run(run_fleet(specs, job, parallelism=3))
    assert [o.spec.stem for o in result.failures] == ["p3", "p7"]
    assert sum(1 for o in result.outcomes if o.ok) == 8
    assert result.exit_code(changed=bool) == ExitCode.UNREACHABLE
    assert [type(o.error).__name__ for o in result.failures] == ["ApiAuthError", "ConflictError"]


def test_changes_give_exit_2_only_when_asked(tmp_path: Path) -> None:
    async def job(spec: Path) -> bool:
        return spec.stem == "b"

    result = asyncio.run(run_fleet([tmp_path / "a", tmp_path / "b"], job))
    assert result.exit_code(changed=bool) == ExitCode.CHANGES
    assert result.exit_code() == ExitCode.OK


def test_a_bug_in_one_portal_is_its_own_failure(tmp_path: Path) -> None:
    """An unexpected exception (a bug) fails only its portal, as an internal error."""

    async def job(spec: Path) -> str:
        if spec.stem == "b":
            raise KeyError("bug")
        return spec.stem

    specs = [tmp_path / "a.yaml", tmp_path / "b.yaml", tmp_path / "c.yaml"]
    with capture_logs() as logs:
        result = asyncio.run(run_fleet(specs, job))
    assert [o.value for o in result.outcomes] == ["a", None, "c"]
    [failed] = result.failures
    assert isinstance(failed.error, InternalError)
    assert str(failed.error) == (
        "internal error: KeyError: 'bug'; run with --log-level debug for a traceback, "
        "and please report it"
    )
    assert result.exit_code() == ExitCode.ERROR
    [event] = [e for e in logs if e["event"] == "fleet.internal_error"]
    assert event["spec"] == str(specs[1])
    assert "KeyError: 'bug'" in event["traceback"]


def test_parallelism_must_be_positive(tmp_path: Path) -> None:
    async def job(spec: Path) -> None:
        return None

    with pytest.raises(UsageError, match="--parallelism must be at least 1, not 0"):
        asyncio.run(run_fleet([tmp_path / "a"], job, parallelism=0))


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_draws_only_on_a_terminal() -> None:
    quiet = io.StringIO()
    p = Progress(2, label="plan", stream=quiet)
    p.advance(failed=False)
    p.advance(failed=True)
    assert quiet.getvalue() == ""
    tty = _Tty()
    p = Progress(2, label="plan", stream=tty)
    p.advance(failed=False)
    p.advance(failed=True)
    assert tty.getvalue().endswith(f"\rplan [{'#' * 30}] 2/2, 1 failed\n")
