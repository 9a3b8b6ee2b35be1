"""Suite-wide fixtures: a private redis-server per test session (same launcher as `minutes up`)."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import boto3
import pytest
import redis
import redis.asyncio as aioredis
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from shared.redis_server import RedisServer, free_port
from tests.servers import server_process
from tests.settings import TestSettings

FIXTURES = Path(__file__).parent / "fixtures"
SEEDS = FIXTURES / "corpus" / "seeds"
GOLD = FIXTURES / "corpus" / "gold"


@pytest.fixture(scope="session")
def test_settings() -> TestSettings:
    """The suite's own settings."""
    return TestSettings()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory, test_settings: TestSettings) -> Iterator[RedisServer]:
    """One redis-server for the whole session, started through the product's launcher on a free port."""
    server = RedisServer(tmp_path_factory.mktemp("redis"), binary=test_settings.redis_server_bin)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """URL of the session's Redis, emptied before each test."""
    if redis_server.pid is None:  # a test that stopped it on purpose
        redis_server.start()
    client = redis.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    return redis_server.url


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """An asyncio Redis client on the emptied session Redis."""
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


def dev_tool(name: str, package: str) -> str:
    """A console script of the dev lock next to this interpreter, else on PATH; missing fails, never skips."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} not found: it is in the dev lock ({package}); install requirements-dev.lock")
    return found


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a moto S3 server started for this session (stopped afterwards)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # Dummy credentials in the child's env only: moto accepts any, and no real account is ever touched.
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    probe = boto3.session.Session().client(
        "s3", endpoint_url=url, aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )

    def answers() -> bool:
        try:
            probe.list_buckets()
        except Exception:
            return False
        return True

    with server_process(
        [dev_tool("moto_server", "moto[server]"), "-H", "127.0.0.1", "-p", str(port)],
        log=tmp_path_factory.mktemp("moto") / "moto.log",
        ready=answers,
        timeout=30,
        env=env,
    ):
        yield url


@pytest.fixture
def postgres_url(test_settings: TestSettings) -> str:
    """MINUTES_TEST_POSTGRES_URL; in CI its absence fails the run instead of skipping."""
    if not test_settings.postgres_url:
        if test_settings.ci:
            pytest.fail("CI=true but MINUTES_TEST_POSTGRES_URL is not set: PostgreSQL tests must run in CI")
        pytest.skip("MINUTES_TEST_POSTGRES_URL not set (set it to run the PostgreSQL variants)")
    return test_settings.postgres_url


@pytest.fixture
async def fresh_postgres_url(postgres_url: str) -> AsyncIterator[str]:
    """URL of a new, empty PostgreSQL database on the configured server (dropped afterwards)."""
    name = f"minutes_t_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(postgres_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using it runs twice: on SQLite (file in tmp) and on PostgreSQL (private schema)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'minutes.db'}"
    url: str = request.getfixturevalue("fresh_postgres_url")
    return url


def pytest_configure(config: pytest.Config) -> None:
    """A runner started as a background job of a non-interactive shell (`sh -c '… &'`) ignores SIGINT, and an
    ignored signal is inherited by every process it starts: the `minutes` processes that tests stop with
    Ctrl-C would ignore it (a supervisor that never stops, an ingest that never prints its partial summary).
    The suite restores Python's default handling, so its children start with SIGINT at its default."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
