"""S3 fixtures: a fresh bucket per test on the session's moto server (`s3_endpoint`, in tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis
from pydantic import SecretStr

from shared.blobs_s3 import make_s3_client
from shared.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def s3_settings(s3_endpoint: str, redis_url: str) -> Settings:
    """Settings pointing at a fresh, empty bucket on the session's moto server."""
    settings = Settings(
        redis_url=redis_url,
        s3_endpoint_url=s3_endpoint,
        s3_bucket=f"minutes-test-{uuid.uuid4().hex[:12]}",
        s3_access_key_id="testing",
        s3_secret_access_key=SecretStr("testing"),
        s3_region="us-east-1",
        blob_store="s3",
    )
    make_s3_client(settings).create_bucket(Bucket=settings.s3_bucket or "")
    return settings


@pytest.fixture
def sync_redis(redis_url: str) -> Iterator[redis.Redis]:
    """A blocking Redis client on the emptied session Redis."""
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()
