"""`minutes health SERVICE`: healthy only when the service can do its work (the container health check)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from services.parser.pool import ParsePool
from services.store.db import create_engine, head_revision, migrate, not_ready
from shared.health import Heartbeat, beat_path, read_beat
from shared.redis_server import free_port
from tests.integration.cli.helpers import run_cli

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def test_store_is_ready_only_with_a_reachable_migrated_database(tmp_path: Path, database_url: str) -> None:
    head = head_revision()
    engine = create_engine(database_url)
    try:
        beat = Heartbeat(tmp_path, "store", lambda: not_ready(engine, head))
        reason = await beat.beat()
        assert reason is not None and "not migrated" in reason and "minutes migrate" in reason
        failed = run_cli(["health", "store", "--data", str(tmp_path)], tmp_path)
        assert failed.returncode == 1 and "not migrated" in failed.stderr
        await migrate(database_url)
        assert await beat.beat() is None
        ready = run_cli(["health", "store", "--data", str(tmp_path)], tmp_path)
        assert ready.returncode == 0, ready.stderr
        assert ready.stdout.strip() == "healthy"
    finally:
        await engine.dispose()


async def test_store_is_unhealthy_while_its_database_is_down(tmp_path: Path) -> None:
    engine = create_engine(f"postgresql+asyncpg://minutes:secret@127.0.0.1:{free_port()}/minutes")
    try:
        beat = Heartbeat(tmp_path, "store", lambda: not_ready(engine, head_revision()))
        reason = await beat.beat()
    finally:
        await engine.dispose()
    assert reason is not None and reason.startswith("database unreachable")
    result = run_cli(["health", "store", "--data", str(tmp_path)], tmp_path)
    assert result.returncode == 1
    assert "database unreachable" in result.stderr


def test_without_a_service_redis_is_checked(tmp_path: Path, redis_url: str) -> None:
    assert run_cli(["health"], tmp_path, MINUTES_REDIS_URL=redis_url).returncode == 0
    down = run_cli(["health"], tmp_path, MINUTES_REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    assert down.returncode == 1
    assert "unhealthy: Redis" in down.stderr


async def test_a_heartbeat_reports_ready_while_its_check_passes_and_why_not_after(tmp_path: Path) -> None:
    state: dict[str, str | None] = {"reason": None}

    async def check() -> str | None:
        return state["reason"]

    beat = Heartbeat(tmp_path, "parser", check, interval_s=0.05)
    assert read_beat(tmp_path, "parser") is not None  # nothing reported yet
    assert await beat.beat() is None
    assert read_beat(tmp_path, "parser") is None
    assert run_cli(["health", "parser", "--data", str(tmp_path)], tmp_path).returncode == 0
    state["reason"] = "the parse process is not running"
    await beat.beat()
    assert read_beat(tmp_path, "parser") == "the parse process is not running"
    failed = run_cli(["health", "parser", "--data", str(tmp_path)], tmp_path)
    assert failed.returncode == 1 and "the parse process is not running" in failed.stderr


async def test_a_stale_heartbeat_is_unhealthy(tmp_path: Path) -> None:
    async def ok() -> None:
        return None

    await Heartbeat(tmp_path, "ingest", ok).beat()
    old = beat_path(tmp_path, "ingest").stat().st_mtime - 600
    os.utime(beat_path(tmp_path, "ingest"), (old, old))
    reason = read_beat(tmp_path, "ingest")
    assert reason is not None and "ago" in reason
    assert run_cli(["health", "ingest", "--data", str(tmp_path)], tmp_path).returncode == 1


async def test_stopping_a_heartbeat_withdraws_readiness(tmp_path: Path) -> None:
    async def ok() -> None:
        return None

    beat = Heartbeat(tmp_path, "ingest", ok, interval_s=0.05)
    beat.start()
    for _ in range(100):
        if read_beat(tmp_path, "ingest") is None:
            break
        await asyncio.sleep(0.05)
    assert read_beat(tmp_path, "ingest") is None
    await beat.stop()
    assert read_beat(tmp_path, "ingest") is not None


async def test_the_parse_child_is_restarted_by_the_readiness_check() -> None:
    pool = ParsePool(timeout_s=5, memory_mb=512)
    try:
        assert await pool.ensure_child() is None
        first = pool._process
        assert first is not None and first.is_alive()
        first.kill()
        first.join(5)
        # A dead child is replaced, so the parser reports ready again with a live one.
        assert await pool.ensure_child() is None
        assert pool._process is not None and pool._process.is_alive() and pool._process.pid != first.pid
    finally:
        pool.close()


def test_without_a_service_the_pipeline_of_a_minutes_up_counts(tmp_path: Path, redis_url: str) -> None:
    from shared.health import PIPELINE, forget_beat, record_beat

    record_beat(tmp_path, PIPELINE, "redis-server is down (restarting)", keep_reason=True)
    down = run_cli(["health", "--data", str(tmp_path)], tmp_path, MINUTES_REDIS_URL=redis_url)
    assert down.returncode == 1 and "unhealthy: pipeline: redis-server is down (restarting)" in down.stderr
    record_beat(tmp_path, PIPELINE, None, keep_reason=True)
    assert run_cli(["health", "--data", str(tmp_path)], tmp_path, MINUTES_REDIS_URL=redis_url).returncode == 0
    os.utime(beat_path(tmp_path, PIPELINE), (0, 0))  # a supervisor that stopped beating: hung or killed
    stale = run_cli(["health", "--data", str(tmp_path)], tmp_path, MINUTES_REDIS_URL=redis_url)
    assert stale.returncode == 1 and "up last reported ready" in stale.stderr
    forget_beat(tmp_path, PIPELINE)  # no `minutes up` here any more: only Redis counts
    assert run_cli(["health", "--data", str(tmp_path)], tmp_path, MINUTES_REDIS_URL=redis_url).returncode == 0


def test_the_api_is_healthy_exactly_when_its_readyz_says_ready(tmp_path: Path, database_url: str) -> None:
    """`minutes health api` asks the running API's /readyz: it agrees with it, ready or not, and says why."""
    import httpx

    from services.store.db import migrate as run_migrate
    from shared.settings import Settings
    from tests.integration.api.server import running_api

    settings = Settings(database_url=database_url, data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    asyncio.run(run_migrate(database_url))
    with running_api(settings) as base:
        port = base.rstrip("/").rsplit(":", 1)[1]
        env = {"MINUTES_DATABASE_URL": database_url, "MINUTES_API_PORT": port}
        assert httpx.get(base + "readyz", timeout=30).status_code == 200
        ready = run_cli(["health", "api", "--data", str(tmp_path)], tmp_path, **env)
        assert (ready.returncode, ready.stdout.strip()) == (0, "healthy"), ready.stderr
    empty = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    with running_api(Settings(database_url=empty, data_dir=tmp_path, _env_file=None)) as base:  # type: ignore[call-arg]
        port = base.rstrip("/").rsplit(":", 1)[1]
        answer = httpx.get(base + "readyz", timeout=30)
        assert answer.status_code == 503
        unready = run_cli(["health", "api", "--data", str(tmp_path)], tmp_path, MINUTES_API_PORT=port)
        assert unready.returncode == 1 and answer.json()["detail"] in unready.stderr
    gone = run_cli(["health", "api", "--data", str(tmp_path)], tmp_path, MINUTES_API_PORT=port)
    assert gone.returncode == 1 and "api not answering at http://127.0.0.1:" in gone.stderr
