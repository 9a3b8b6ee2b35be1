"""The ingest app on a real Redis and a real inbox folder: start-up scan, inotify, settling, dedup, rejects."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import pytest
from redis.asyncio import Redis

from services.ingest.app import create_app
from services.ingest.bootstrap import SEEN_KEY
from shared import streams
from shared.blobs import LocalBlobStore
from shared.redis_server import RedisServer
from tests.integration.ingest.helpers import count_is, dead_letters, documents, eventually, make_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


async def sentinel(inbox: Path, client: Redis, count: int, name: str = "sentinel.txt") -> None:
    """Drop one more, different file and wait until it is the `count`-th document: ingest takes files in the
    order they complete, so whatever the files before it would have caused is on the stream by then. This
    stands for "nothing more arrives" without a sleep that a loaded machine could outlast."""
    (inbox / name).write_text(f"vagtpost {name}")
    await eventually(lambda: count_is(client, count))


async def test_files_present_at_start_are_published(tmp_path: Path, redis_url: str, redis_client: Redis) -> None:
    settings = make_settings(tmp_path, redis_url)
    settings.inbox.mkdir()
    (settings.inbox / "a.pdf").write_bytes(b"%PDF-1.7 a")
    (settings.inbox / "sub").mkdir()
    (settings.inbox / "sub" / "b.html").write_bytes(b"<html><body>b</body></html>")
    (settings.inbox / "c.pdf.part").write_bytes(b"%PDF half")
    (settings.inbox / ".hidden").write_bytes(b"x")
    async with create_app(settings):
        await eventually(lambda: count_is(redis_client, 2))
        await sentinel(settings.inbox, redis_client, 3)
    docs = {doc.original_name: doc for doc in await documents(redis_client)}
    assert set(docs) == {"a.pdf", "b.html", "sentinel.txt"}  # not the .part nor the hidden file
    assert docs["a.pdf"].content_type == "application/pdf"
    assert docs["b.html"].content_type == "text/html"
    assert docs["a.pdf"].document_id == hashlib.sha256(b"%PDF-1.7 a").hexdigest()
    # The parser's group exists from id 0, so it will read these even though it started later.
    groups = await redis_client.xinfo_groups(streams.DOCUMENTS)
    assert [g["name"] for g in groups] == [streams.PARSER_GROUP.encode()]


async def test_dropped_file_once_and_a_slow_write_only_when_complete(
    tmp_path: Path, redis_url: str, redis_client: Redis
) -> None:
    settings = make_settings(tmp_path, redis_url, settle_s=0.5)
    async with create_app(settings):
        (settings.inbox / "dropped.txt").write_text("Referat fra Byrådet")
        await eventually(lambda: count_is(redis_client, 1))

        chunks = [bytes([n]) * 10_000 for n in range(1, 16)]
        with (settings.inbox / "slow.pdf").open("wb") as handle:
            handle.write(b"%PDF-1.7\n")
            for chunk in chunks:
                handle.write(chunk)
                handle.flush()
                await asyncio.sleep(0.15)  # under settle_s: the file is still being written
                assert await redis_client.xlen(streams.DOCUMENTS) == 1
        await eventually(lambda: count_is(redis_client, 2))
        await sentinel(settings.inbox, redis_client, 3)  # nothing more arrived for either file before it
        assert [doc.original_name for doc in await documents(redis_client)] == [
            "dropped.txt", "slow.pdf", "sentinel.txt"
        ]
    full = b"%PDF-1.7\n" + b"".join(chunks)
    slow = next(doc for doc in await documents(redis_client) if doc.original_name == "slow.pdf")
    assert slow.size == len(full)
    assert slow.document_id == hashlib.sha256(full).hexdigest()
    assert LocalBlobStore(settings.blobs_dir).get(slow.blob_ref) == full


async def test_write_then_rename_is_picked_up(tmp_path: Path, redis_url: str, redis_client: Redis) -> None:
    settings = make_settings(tmp_path, redis_url, settle_s=0.5)
    async with create_app(settings):
        (settings.inbox / "x.pdf.part").write_bytes(b"%PDF-1.7 renamed")
        await sentinel(settings.inbox, redis_client, 1)  # a temporary name is ignored: only the sentinel came
        (settings.inbox / "x.pdf.part").rename(settings.inbox / "x.pdf")
        await eventually(lambda: count_is(redis_client, 2))
    assert [doc.original_name for doc in await documents(redis_client)] == ["sentinel.txt", "x.pdf"]


async def test_same_bytes_twice_is_one_document_and_a_change_is_another(
    tmp_path: Path, redis_url: str, redis_client: Redis
) -> None:
    settings = make_settings(tmp_path, redis_url)
    async with create_app(settings):
        (settings.inbox / "one.txt").write_text("samme referat")
        await eventually(lambda: count_is(redis_client, 1))
        (settings.inbox / "copy of one.txt").write_text("samme referat")
        await sentinel(settings.inbox, redis_client, 2)  # the copy came before it and published nothing
        (settings.inbox / "one.txt").write_text("rettet referat")
        await eventually(lambda: count_is(redis_client, 3))
    first, guard, second = await documents(redis_client)
    assert guard.original_name == "sentinel.txt"
    assert first.original_name == second.original_name == "one.txt"
    assert first.document_id != second.document_id
    assert await redis_client.hlen(SEEN_KEY) == 3


async def test_rejections_are_dead_lettered_and_moved(tmp_path: Path, redis_url: str, redis_client: Redis) -> None:
    settings = make_settings(tmp_path, redis_url, max_file_mb=0.01, move_rejected=True)
    settings.inbox.mkdir()
    outside = tmp_path / "passwd"
    outside.write_text("root:x:0:0")
    (settings.inbox / "empty.pdf").write_bytes(b"")
    async with create_app(settings):
        (settings.inbox / "big.txt").write_bytes(b"x" * 64_000)
        (settings.inbox / "evil.txt").symlink_to(outside)
        (settings.inbox / "fine.txt").write_text("Referat")

        async def three_dead() -> bool:
            return len(await dead_letters(redis_client)) == 3

        await eventually(three_dead)
        await eventually(lambda: count_is(redis_client, 1))
        await eventually(lambda: _exists(settings.inbox / "rejected" / "evil.txt.reason.txt"))
    reasons = {dl.original_name: dl for dl in await dead_letters(redis_client)}
    assert reasons["empty.pdf"].error == "empty file"
    assert reasons["big.txt"].error == "file is 0.1 MB, over the 0.01 MB cap"
    assert reasons["evil.txt"].error == f"symlink not followed (points to {outside})"
    assert all(dl.service == "ingest" and not dl.retryable for dl in reasons.values())
    rejected = settings.inbox / "rejected"
    for name, reason in (("empty.pdf", "empty file"), ("big.txt", "file is 0.1 MB, over the 0.01 MB cap")):
        assert (rejected / name).exists()
        assert (rejected / f"{name}.reason.txt").read_text().strip() == reason
    assert (rejected / "evil.txt").is_symlink()
    assert outside.read_text() == "root:x:0:0"  # the target is untouched
    assert (settings.inbox / "fine.txt").exists()  # move_processed is off


async def _exists(path: Path) -> bool:
    return await asyncio.to_thread(path.exists)


async def test_awkward_names_are_ingested(tmp_path: Path, redis_url: str, redis_client: Redis) -> None:
    settings = make_settings(tmp_path, redis_url, move_processed=True)
    names = [
        "Referat æøå.txt",
        "møde i Økonomiudvalget 2024.txt",
        "-rf --leading-dash.txt",
        "a" * 196 + ".txt",
        "Referat..final.txt",
    ]
    async with create_app(settings):
        for n, name in enumerate(names):
            (settings.inbox / name).write_text(f"referat {n}")
        await eventually(lambda: count_is(redis_client, len(names)))
        await eventually(lambda: _all_moved(settings.inbox, names))
    assert sorted(doc.original_name for doc in await documents(redis_client)) == sorted(names)
    assert sorted(p.name for p in (settings.inbox / "processed").iterdir()) == sorted(names)


async def _all_moved(inbox: Path, names: list[str]) -> bool:
    return not any((inbox / name).exists() for name in names)


async def test_a_thousand_files_at_once(tmp_path: Path, redis_url: str, redis_client: Redis) -> None:
    settings = make_settings(tmp_path, redis_url, settle_s=0.2)
    async with create_app(settings):
        for n in range(1000):
            (settings.inbox / f"referat-{n:04d}.txt").write_text(f"Referat nr. {n}")
        await eventually(lambda: count_is(redis_client, 1000), within=60)
        await sentinel(settings.inbox, redis_client, 1001)
    docs = await documents(redis_client)
    assert len(docs) == 1001
    assert len({doc.document_id for doc in docs}) == 1001


async def test_restart_does_not_republish(tmp_path: Path, redis_url: str, redis_client: Redis) -> None:
    settings = make_settings(tmp_path, redis_url)
    settings.inbox.mkdir()
    (settings.inbox / "empty.txt").write_text("")
    for n in range(5):
        (settings.inbox / f"{n}.txt").write_text(f"referat {n}")
    async with create_app(settings):
        await eventually(lambda: count_is(redis_client, 5))
        await eventually(lambda: _dead_count(redis_client, 1))
    async with create_app(settings):
        (settings.inbox / "new.txt").write_text("nyt referat")
        await eventually(lambda: count_is(redis_client, 6))
        await sentinel(settings.inbox, redis_client, 7)  # the old files were rescanned before it: nothing new
    assert [doc.original_name for doc in await documents(redis_client)][5:] == ["new.txt", "sentinel.txt"]
    assert await redis_client.xlen(streams.DEAD_LETTER) == 1  # the same empty file is not reported twice


async def _dead_count(client: Redis, n: int) -> bool:
    return int(await client.xlen(streams.DEAD_LETTER)) == n


async def test_rescan_catches_what_inotify_missed(tmp_path: Path, redis_url: str, redis_client: Redis) -> None:
    settings = make_settings(tmp_path, redis_url, rescan_interval_s=0.5, force_polling=False)
    app = create_app(settings)
    async with app:
        await asyncio.sleep(0.3)
        # Simulate a lost event: a folder moved in from elsewhere whose files inotify never reported.
        staging = tmp_path / "staging"
        (staging / "deep").mkdir(parents=True)
        (staging / "deep" / "late.txt").write_text("sent i postkassen")
        staging.rename(settings.inbox / "moved-in")
        await eventually(lambda: count_is(redis_client, 1))
    [doc] = await documents(redis_client)
    assert doc.original_name == "late.txt"


async def test_a_redis_outage_delays_but_loses_nothing(
    tmp_path: Path, redis_server: RedisServer, redis_url: str, redis_client: Redis
) -> None:
    settings = make_settings(tmp_path, redis_url)
    async with create_app(settings):
        (settings.inbox / "before.txt").write_text("referat 1")
        await eventually(lambda: count_is(redis_client, 1))
        await asyncio.to_thread(redis_server.stop)
        try:
            (settings.inbox / "during.txt").write_text("referat 2")
            await asyncio.sleep(1.5)  # ingest fails and backs off meanwhile
        finally:
            await asyncio.to_thread(redis_server.start)
        fresh = Redis.from_url(redis_url)  # the test's own pooled connection died with the server
        try:
            await eventually(lambda: count_is(fresh, 2), within=30)
            names = sorted(doc.original_name for doc in await documents(fresh))
        finally:
            await fresh.aclose()
    assert names == ["before.txt", "during.txt"]
