"""Watched bucket: new or changed objects found by listing against a cursor in Redis, plus optional notifications.

The cursor is a Redis hash `object key -> ETag already handed on`. Listing compares every object's ETag with it,
so objects present at start-up are picked up, a restart (same Redis) finds nothing new, and an overwritten
object (new ETag) counts as a new version. An object is marked done only after `on_object` returned, so a crash
in between hands it on again; ingest is idempotent on the sha256 of the bytes, so that is harmless.

Where the server publishes bucket notifications to Redis (MinIO's `access` format: RPUSH of JSON), the list is
drained as a wake-up so new objects are handled without waiting for the next listing. Popping a list entry is
at-most-once; nothing is lost when an entry is, because the periodic listing stays the source of truth.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError
from redis.asyncio import Redis

from shared import streams
from shared.blobs_s3 import BLOB_PREFIX, is_missing, make_s3_client
from shared.logging import get_logger
from shared.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
else:
    S3Client = Any

log = get_logger(__name__)

CURSOR_KEY_PREFIX = streams.S3_CURSOR_KEY_PREFIX
# Entries drained from a notification list per round trip.
NOTIFY_BATCH = 100
# Back-off after the bucket or Redis failed, so an outage does not become a busy loop.
ERROR_BACKOFF_S = 5.0

OnObject = Callable[[str, bytes, str], Awaitable[None]]


class ObjectChanged(Exception):
    """The object was replaced or deleted between listing and fetching; the next poll sees its new state."""


@dataclass(frozen=True)
class BucketObject:
    """One version of one object: `etag` (without quotes) identifies the version."""

    bucket: str
    key: str
    etag: str
    size: int

    @property
    def url(self) -> str:
        """Where the object was found, for `DocumentReceived.source`."""
        return f"s3://{self.bucket}/{self.key}"


def normalize_etag(etag: str) -> str:
    """ETags come quoted from listings and unquoted in notifications; compare them bare."""
    return etag.strip().strip('"')


class BucketSource:
    """Finds objects of one bucket (under a prefix) not yet handed on, fetches them and records them as done."""

    def __init__(
        self,
        client: S3Client,
        redis: Redis,
        bucket: str,
        prefix: str = "",
        *,
        cursor_key: str | None = None,
        notify_list: str | None = None,
        exclude_prefixes: Sequence[str] = (BLOB_PREFIX,),
        max_bytes: int | None = None,
        page_size: int = 1000,
    ) -> None:
        self.client = client
        self.redis = redis
        self.bucket = bucket
        self.prefix = prefix
        self.cursor_key = cursor_key or f"{CURSOR_KEY_PREFIX}{bucket}"
        self.notify_list = notify_list
        # The blob store may share the bucket: its objects must never be ingested again.
        self.exclude_prefixes = tuple(p for p in exclude_prefixes if p)
        self.max_bytes = max_bytes
        self.page_size = page_size

    @classmethod
    def from_settings(cls, settings: Settings, redis: Redis, *, notify_list: str | None = None) -> BucketSource:
        """The source for the `MINUTES_S3_*` settings; objects above `max_file_mb` are fetched only in part."""
        if not settings.s3_bucket:
            raise ValueError("the bucket source needs MINUTES_S3_BUCKET")
        return cls(
            make_s3_client(settings),
            redis,
            settings.s3_bucket,
            settings.s3_prefix,
            notify_list=notify_list,
            max_bytes=int(settings.max_file_mb * 1024 * 1024),
        )

    def wanted(self, key: str) -> bool:
        """True for keys this source hands on (under the prefix, not a folder marker, not a blob)."""
        if not key.startswith(self.prefix) or key.endswith("/"):
            return False
        return not any(key.startswith(p) for p in self.exclude_prefixes)

    async def poll(self) -> list[BucketObject]:
        """Every wanted object whose current ETag differs from the one handed on (new or changed)."""
        found: list[BucketObject] = []
        token: str | None = None
        while True:
            page, token = await asyncio.to_thread(self._list_page, token)
            found.extend(await self._not_done(page))
            if token is None:
                return found

    async def fetch(self, obj: BucketObject) -> bytes:
        """The bytes of exactly this version (If-Match); at most `max_bytes + 1`, so a size check still fires."""
        return await asyncio.to_thread(self._get, obj)

    async def mark_done(self, obj: BucketObject) -> None:
        """Record this version as handed on (it survives restarts with Redis' AOF)."""
        await self.redis.hset(self.cursor_key, obj.key, obj.etag)

    async def notified(self, wait_s: float) -> list[BucketObject]:
        """Objects announced on the notification list within `wait_s` seconds and not yet handed on."""
        if not self.notify_list:
            await asyncio.sleep(wait_s)
            return []
        first = await self.redis.blpop([self.notify_list], timeout=max(wait_s, 0.01))
        if first is None:
            return []
        raw: list[bytes | str] = [first[1]]
        more = await self.redis.lpop(self.notify_list, NOTIFY_BATCH)
        if isinstance(more, list):
            raw.extend(more)
        announced: dict[str, BucketObject] = {}
        for entry in raw:
            for obj in self._parse_notification(entry):
                announced[obj.key] = obj  # the last event for a key wins
        resolved = [await self._complete(obj) for obj in announced.values()]
        return await self._not_done([obj for obj in resolved if obj is not None])

    async def forget(self) -> None:
        """Drop the cursor, so every object is handed on again (re-ingest)."""
        await self.redis.delete(self.cursor_key)

    # -- internals ---------------------------------------------------------------------------------------

    def _list_page(self, token: str | None) -> tuple[list[BucketObject], str | None]:
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": self.prefix, "MaxKeys": self.page_size}
        if token:
            kwargs["ContinuationToken"] = token
        response = self.client.list_objects_v2(**kwargs)
        page = [
            BucketObject(self.bucket, item["Key"], normalize_etag(item.get("ETag", "")), int(item.get("Size", 0)))
            for item in response.get("Contents", [])
            if self.wanted(item["Key"])
        ]
        next_token = response.get("NextContinuationToken") if response.get("IsTruncated") else None
        return page, next_token

    async def _not_done(self, objects: Sequence[BucketObject]) -> list[BucketObject]:
        if not objects:
            return []
        done = await self.redis.hmget(self.cursor_key, [o.key for o in objects])
        return [o for o, etag in zip(objects, done, strict=True) if _text(etag) != o.etag]

    def _get(self, obj: BucketObject) -> bytes:
        kwargs: dict[str, Any] = {"Bucket": obj.bucket, "Key": obj.key}
        if obj.etag:
            kwargs["IfMatch"] = f'"{obj.etag}"'
        if self.max_bytes is not None:
            kwargs["Range"] = f"bytes=0-{self.max_bytes}"
        try:
            response = self.client.get_object(**kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if is_missing(exc) or code in {"PreconditionFailed", "412"}:
                raise ObjectChanged(obj.url) from exc
            if code in {"InvalidRange", "416"}:  # a zero-byte object has no byte 0
                return b""
            raise
        data: bytes = response["Body"].read()
        return data

    def _parse_notification(self, entry: bytes | str) -> Iterator[BucketObject]:
        try:
            document = json.loads(entry)
        except (TypeError, ValueError):
            log.warning("bucket notification is not JSON", entry=_text(entry)[:200])
            return
        for record in _records(document):
            if "ObjectCreated" not in str(record.get("eventName", "")):
                continue
            s3 = record.get("s3") or {}
            bucket = (s3.get("bucket") or {}).get("name")
            item = s3.get("object") or {}
            if bucket != self.bucket or "key" not in item:
                continue
            # Keys arrive URL-encoded, spaces as '+' (Go's QueryEscape), so '+' itself arrives as %2B.
            key = unquote_plus(str(item["key"]))
            if self.wanted(key):
                yield BucketObject(bucket, key, normalize_etag(str(item.get("eTag", ""))), int(item.get("size", 0)))

    async def _complete(self, obj: BucketObject) -> BucketObject | None:
        """Fill in a missing ETag from a HEAD; None when the object is already gone."""
        if obj.etag:
            return obj
        try:
            head = await asyncio.to_thread(self.client.head_object, Bucket=obj.bucket, Key=obj.key)
        except ClientError as exc:
            if is_missing(exc):
                return None
            raise
        return BucketObject(obj.bucket, obj.key, normalize_etag(head.get("ETag", "")), head.get("ContentLength", 0))


def _records(document: Any) -> Iterable[dict[str, Any]]:
    """S3 event records from MinIO's access format (`[{"Event": [...], "EventTime": ...}]`) or S3's `Records`."""
    if isinstance(document, list):
        for part in document:
            yield from _records(part)
    elif isinstance(document, dict):
        if "s3" in document:
            yield document
        for field in ("Event", "Records"):
            yield from _records(document.get(field) or [])


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else value


def display_name(obj: BucketObject, prefix: str = "") -> str:
    """The name shown for an object: its key below the watched prefix."""
    return obj.key[len(prefix) :] if prefix and obj.key.startswith(prefix) else obj.key


async def run_bucket_source(
    source: BucketSource, on_object: OnObject, stop_event: asyncio.Event, interval_s: float
) -> None:
    """Hand each new object version to `on_object(name, data, source_url)` until `stop_event` is set.

    Lists the bucket at start and every `interval_s`; in between, waits on the notification list if any.
    A failing `on_object` leaves the object unmarked, so the next listing hands it on again.
    """
    loop = asyncio.get_running_loop()
    next_listing = 0.0
    while not stop_event.is_set():
        try:
            now = loop.time()
            if now >= next_listing:
                objects = await source.poll()
                next_listing = now + interval_s
            else:
                # Short slices so a stop request is noticed within a second even while blocked on BLPOP.
                objects = await source.notified(min(next_listing - now, 1.0))
            for obj in objects:
                if stop_event.is_set():
                    return
                await _hand_on(source, obj, on_object)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("bucket source failed; retrying", bucket=source.bucket)
            await _wait(stop_event, ERROR_BACKOFF_S)


async def _hand_on(source: BucketSource, obj: BucketObject, on_object: OnObject) -> None:
    try:
        data = await source.fetch(obj)
    except ObjectChanged:
        log.info("object changed while fetching; next listing picks up its new state", source=obj.url)
        return
    try:
        await on_object(display_name(obj, source.prefix), data, obj.url)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("handling a bucket object failed; it is retried on the next listing", source=obj.url)
        return
    await source.mark_done(obj)


async def _wait(stop_event: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop_event.wait(), timeout=seconds)
