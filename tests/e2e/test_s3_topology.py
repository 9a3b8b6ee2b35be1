"""The compose topology as processes: ingest watching an S3 bucket (moto over HTTP), 2 parser workers,
store on PostgreSQL, Redis with a password — seeds in, 28 decision events out."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import redis as sync_redis

from minutes_cli.supervisor import Stack
from shared import streams
from shared.blobs import RECORD_SUFFIX
from shared.blobs_s3 import make_s3_client
from shared.redis_server import RedisServer
from shared.settings import Settings
from tests.conftest import SEEDS
from tests.e2e.harness import expected_decisions, read_decisions, wait_for

pytestmark = pytest.mark.e2e


def test_bucket_to_decisions_with_password_redis_and_postgres(
    tmp_path: Path, s3_endpoint: str, fresh_postgres_url: str
) -> None:
    redis = RedisServer(tmp_path / "redis", password=f"pw-{uuid.uuid4().hex}")
    redis_url = redis.start()
    bucket = f"minutes-inbox-{uuid.uuid4().hex[:8]}"
    s3_env = {
        "MINUTES_S3_ENDPOINT_URL": s3_endpoint,
        "MINUTES_S3_BUCKET": bucket,
        "MINUTES_S3_ACCESS_KEY_ID": "testing",
        "MINUTES_S3_SECRET_ACCESS_KEY": "testing",
        "MINUTES_BLOB_STORE": "s3",
        "MINUTES_RESCAN_INTERVAL_S": "1",
        "MINUTES_CLAIM_IDLE_MS": "2000",
        "MINUTES_LOG_FORMAT": "json",
    }
    settings = Settings(
        redis_url=redis_url,
        database_url=fresh_postgres_url,
        data_dir=tmp_path / "data",
        inbox=tmp_path / "inbox",
        s3_endpoint_url=s3_endpoint,
        s3_bucket=bucket,
        s3_access_key_id="testing",
        s3_secret_access_key="testing",
    )
    s3 = make_s3_client(settings)
    s3.create_bucket(Bucket=bucket)
    lines: list[str] = []
    stack = Stack(settings, parsers=2, stores=1, env=s3_env, sink=lines.append)
    try:
        stack.start()
        for seed in sorted(SEEDS.glob("*.txt")):
            s3.put_object(Bucket=bucket, Key=f"referater/{seed.name}", Body=seed.read_bytes())
        want = len(expected_decisions())
        wait_for(lambda: len(read_decisions(redis_url)) >= want, 120, f"{want} decisions")
        # A sentinel the parser refuses, after the seeds in key order: the rescan that finds it lists the seeds
        # again, and once it is dead-lettered that rescan is done, so a re-published seed would be counted below.
        s3.put_object(Bucket=bucket, Key="referater/zz-sentinel.pdf", Body=b"not a pdf at all")
        wait_for(lambda: _dead_letters(redis_url) >= 1, 60, "the sentinel dead-lettered")
        events = read_decisions(redis_url)
        assert len(events) == want == 28
        assert len({e.event_id for e in events}) == 28
        assert _dead_letters(redis_url) == 1
        # The documents' bytes went to the bucket (claim-check shared by workers on any host).
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="blobs/").get("Contents", [])]
        blobs = [k for k in keys if not k.endswith(RECORD_SUFFIX)]
        assert len(blobs) == 6  # the five seeds and the refused sentinel (bad input is kept, not lost)
        # Each with the record of its arrival beside it (what `minutes check` re-publishes a lost one from).
        assert sorted(keys) == sorted([*blobs, *(k + RECORD_SUFFIX for k in blobs)])
    finally:
        codes = stack.stop()
        redis.stop()
    assert all(code == 0 for code in codes.values()), (codes, lines[-30:])


def _dead_letters(url: str) -> int:
    client = sync_redis.Redis.from_url(url)
    try:
        return int(client.xlen(streams.DEAD_LETTER))
    finally:
        client.close()
