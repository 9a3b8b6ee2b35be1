"""The watched bucket against a real S3 endpoint (moto over HTTP) and a real Redis."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote_plus

import pytest
import redis.asyncio as aioredis

from services.ingest.s3_source import BucketObject, BucketSource, ObjectChanged, run_bucket_source
from shared.blobs_s3 import S3BlobStore, make_s3_client
from shared.settings import Settings

pytestmark = pytest.mark.integration


def put(settings: Settings, key: str, data: bytes) -> None:
    make_s3_client(settings).put_object(Bucket=settings.s3_bucket or "", Key=key, Body=data)


def source(settings: Settings, client: aioredis.Redis, **kwargs: object) -> BucketSource:
    return BucketSource.from_settings(settings, client, **kwargs)  # type: ignore[arg-type]


async def drain(src: BucketSource) -> dict[str, bytes]:
    """Poll once, fetch and mark every object done, as the ingest loop does."""
    got: dict[str, bytes] = {}
    for obj in await src.poll():
        got[obj.key] = await src.fetch(obj)
        await src.mark_done(obj)
    return got


async def test_objects_present_at_start_are_found(s3_settings: Settings, redis_client: aioredis.Redis) -> None:
    put(s3_settings, "a.pdf", b"first")
    put(s3_settings, "sub/b.docx", b"second")
    got = await drain(source(s3_settings, redis_client))
    assert got == {"a.pdf": b"first", "sub/b.docx": b"second"}


async def test_new_object_is_found_once(s3_settings: Settings, redis_client: aioredis.Redis) -> None:
    src = source(s3_settings, redis_client)
    assert await drain(src) == {}
    put(s3_settings, "new.pdf", b"hello")
    assert await drain(src) == {"new.pdf": b"hello"}
    assert await src.poll() == []


async def test_unmarked_object_is_found_again(s3_settings: Settings, redis_client: aioredis.Redis) -> None:
    put(s3_settings, "x.pdf", b"x")
    src = source(s3_settings, redis_client)
    assert [o.key for o in await src.poll()] == ["x.pdf"]
    # Not marked done (the handler failed or the process died): handed on again.
    assert [o.key for o in await src.poll()] == ["x.pdf"]


async def test_restart_finds_nothing_new(s3_settings: Settings, redis_url: str) -> None:
    put(s3_settings, "a.pdf", b"a")
    put(s3_settings, "b.pdf", b"b")
    first = aioredis.Redis.from_url(redis_url)
    assert set(await drain(source(s3_settings, first))) == {"a.pdf", "b.pdf"}
    await first.aclose()
    # A new process: new S3 client, new Redis connection, same Redis data.
    second = aioredis.Redis.from_url(redis_url)
    try:
        assert await source(s3_settings, second).poll() == []
    finally:
        await second.aclose()


async def test_changed_object_is_found_again(s3_settings: Settings, redis_client: aioredis.Redis) -> None:
    src = source(s3_settings, redis_client)
    put(s3_settings, "m.pdf", b"version 1")
    assert await drain(src) == {"m.pdf": b"version 1"}
    put(s3_settings, "m.pdf", b"version 2")
    assert await drain(src) == {"m.pdf": b"version 2"}
    assert await src.poll() == []


async def test_object_replaced_after_listing_is_not_fetched_as_listed(
    s3_settings: Settings, redis_client: aioredis.Redis
) -> None:
    src = source(s3_settings, redis_client)
    put(s3_settings, "r.pdf", b"old")
    [listed] = await src.poll()
    put(s3_settings, "r.pdf", b"new")
    with pytest.raises(ObjectChanged):
        await src.fetch(listed)
    [relisted] = await src.poll()
    assert await src.fetch(relisted) == b"new"


@pytest.mark.parametrize("key", ["referat 2024 møde.pdf", "Åbenrå/æble + øl.txt", "100% sikker?.docx"])
async def test_keys_with_spaces_and_danish_letters(
    s3_settings: Settings, redis_client: aioredis.Redis, key: str
) -> None:
    put(s3_settings, key, b"data")
    src = source(s3_settings, redis_client)
    [obj] = await src.poll()
    assert obj.key == key
    assert obj.url == f"s3://{s3_settings.s3_bucket}/{key}"
    assert await src.fetch(obj) == b"data"
    await src.mark_done(obj)
    assert await src.poll() == []


async def test_blobs_and_folder_markers_are_not_ingested(s3_settings: Settings, redis_client: aioredis.Redis) -> None:
    S3BlobStore.from_settings(s3_settings).put(b"stored document")
    put(s3_settings, "folder/", b"")
    put(s3_settings, "real.pdf", b"r")
    assert set(await drain(source(s3_settings, redis_client))) == {"real.pdf"}


async def test_prefix_limits_the_watch(s3_settings: Settings, redis_client: aioredis.Redis) -> None:
    put(s3_settings, "inbox/in.pdf", b"in")
    put(s3_settings, "elsewhere/out.pdf", b"out")
    settings = s3_settings.model_copy(update={"s3_prefix": "inbox/"})
    assert set(await drain(source(settings, redis_client))) == {"inbox/in.pdf"}


async def test_oversized_object_is_fetched_only_in_part(s3_settings: Settings, redis_client: aioredis.Redis) -> None:
    put(s3_settings, "big.pdf", b"x" * 5000)
    put(s3_settings, "empty.pdf", b"")
    src = source(s3_settings, redis_client)
    src.max_bytes = 1000
    fetched = {o.key: await src.fetch(o) for o in await src.poll()}
    # One byte over the cap, so the ingest size check rejects it without reading the whole object.
    assert len(fetched["big.pdf"]) == 1001
    assert fetched["empty.pdf"] == b""


def minio_access_event(bucket: str, key: str, etag: str, size: int) -> str:
    """One entry as MinIO's Redis target (format=access) RPUSHes it: keys URL-encoded, spaces as '+'."""
    record = {
        "eventName": "s3:ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": quote_plus(key), "eTag": etag, "size": size}},
    }
    return json.dumps([{"Event": [record], "EventTime": "2025-01-01T00:00:00Z"}])


async def test_notifications_announce_new_objects_idempotently(
    s3_settings: Settings, redis_client: aioredis.Redis
) -> None:
    bucket = s3_settings.s3_bucket or ""
    key = "Referat økonomiudvalget 2025.pdf"
    put(s3_settings, key, b"minutes")
    etag = make_s3_client(s3_settings).head_object(Bucket=bucket, Key=key)["ETag"].strip('"')
    src = source(s3_settings, redis_client, notify_list="minio:events")
    entry = minio_access_event(bucket, key, etag, 7)
    await redis_client.rpush("minio:events", entry, entry, minio_access_event("other-bucket", "x.pdf", "e", 1))
    [obj] = await src.notified(1.0)
    assert obj == BucketObject(bucket, key, etag, 7)
    assert await src.fetch(obj) == b"minutes"
    await src.mark_done(obj)
    # The same announcement again (a redelivery) and the periodic listing both find nothing new.
    await redis_client.rpush("minio:events", entry)
    assert await src.notified(1.0) == []
    assert await src.poll() == []


async def test_run_bucket_source_hands_on_each_version_once(
    s3_settings: Settings, redis_client: aioredis.Redis
) -> None:
    seen: list[tuple[str, bytes, str]] = []
    arrived = [asyncio.Event(), asyncio.Event(), asyncio.Event()]
    calls = 0

    async def on_object(name: str, data: bytes, where: str) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("transient")  # the first attempt fails: retried on the next listing
        seen.append((name, data, where))
        arrived[min(len(seen), 3) - 1].set()

    put(s3_settings, "one.pdf", b"1")
    stop = asyncio.Event()
    task = asyncio.create_task(run_bucket_source(source(s3_settings, redis_client), on_object, stop, 0.2))
    try:
        async with asyncio.timeout(10):
            await arrived[0].wait()
            put(s3_settings, "two.pdf", b"2")
            await arrived[1].wait()
            # A sentinel: the listing that finds it lists the two before it too (keys in order), so a version
            # handed on twice would be in `seen` before it.
            put(s3_settings, "z-sentinel.pdf", b"3")
            await arrived[2].wait()
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
    bucket = s3_settings.s3_bucket
    assert seen == [
        ("one.pdf", b"1", f"s3://{bucket}/one.pdf"),
        ("two.pdf", b"2", f"s3://{bucket}/two.pdf"),
        ("z-sentinel.pdf", b"3", f"s3://{bucket}/z-sentinel.pdf"),
    ]
