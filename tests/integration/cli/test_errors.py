"""The commonest mistakes get one or two lines saying what to do, never a traceback, and a non-zero exit."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.redis_server import free_port
from tests.integration.cli.helpers import run_cli

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def _short_error(done: object, *needles: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stderr)  # type: ignore[attr-defined]
    err: str = done.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in err and "--debug" not in err  # an expected refusal hints at no traceback
    assert 1 <= len(err.strip().splitlines()) <= 2, err
    for needle in needles:
        assert needle in err, err


@pytest.mark.parametrize("args", [["decisions", "--follow"], ["dlq", "list"], ["dlq", "retry", "--all"]])
def test_no_pipeline_running(tmp_path: Path, args: list[str]) -> None:
    done = run_cli([*args, "--data", str(tmp_path)], tmp_path)
    _short_error(done, "no pipeline running", "minutes up")


def test_redis_unreachable(tmp_path: Path) -> None:
    done = run_cli(["dlq", "list"], tmp_path, MINUTES_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    _short_error(done, "cannot reach Redis")


def test_a_bad_setting_names_the_variable(tmp_path: Path) -> None:
    done = run_cli(["decisions", "--data", str(tmp_path)], tmp_path, MINUTES_PARSERS="many")
    _short_error(done, "MINUTES_PARSERS")


def test_a_bad_option_value_is_a_usage_error(tmp_path: Path) -> None:
    done = run_cli(["decisions", "--outcome", "maybe", "--data", str(tmp_path)], tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "maybe" in done.stderr


def test_follow_options_without_follow_are_refused(tmp_path: Path) -> None:
    done = run_cli(["decisions", "--from-start", "--data", str(tmp_path)], tmp_path)
    assert done.returncode == 2 and "--follow" in done.stderr


def test_bench_help_lists_its_options(tmp_path: Path) -> None:
    done = run_cli(["bench", "--help"], tmp_path)
    assert done.returncode == 0
    assert "--docs" in done.stdout and "--parsers" in done.stdout
