"""The ingest handler under FastStream's TestRedisBroker, with an in-memory seen set."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from faststream.redis import RedisBroker, StreamSub, TestRedisBroker

from services.ingest.bootstrap import StreamOutbox, declare_publisher
from services.ingest.handlers import IngestDeps, ingest_file, ingest_many
from shared import streams
from shared.blobs import LocalBlobStore
from shared.contracts.events import DeadLettered, DocumentReceived
from tests.unit.ingest.fakes import MemorySeenStore


@dataclass
class Harness:
    deps: IngestDeps
    inbox: Path
    blobs: LocalBlobStore
    published: list[DocumentReceived] = field(default_factory=list)
    dead: list[DeadLettered] = field(default_factory=list)


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    broker = RedisBroker()
    publisher = declare_publisher(broker)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    blobs = LocalBlobStore(tmp_path / "blobs")
    holder: list[Harness] = []

    @broker.subscriber(stream=StreamSub(streams.DOCUMENTS))
    async def sink(event: DocumentReceived) -> None:
        holder[0].published.append(event)

    async def dead_letters(event: DeadLettered) -> None:
        holder[0].dead.append(event)

    async with TestRedisBroker(broker):
        outbox = StreamOutbox(publisher, None, dead_letters)
        deps = IngestDeps(blobs=blobs, seen=MemorySeenStore(), outbox=outbox, max_file_mb=0.01, inbox=inbox)
        holder.append(Harness(deps, inbox, blobs))
        yield holder[0]


async def test_a_new_file_becomes_one_document_received(harness: Harness) -> None:
    data = b"%PDF-1.7 referat"
    path = harness.inbox / "Referat æøå.pdf"
    path.write_bytes(data)
    result = await ingest_file(path, harness.deps)
    digest = hashlib.sha256(data).hexdigest()
    assert result.status == "new"
    assert result.document_id == digest
    [event] = harness.published
    assert event.document_id == digest
    assert event.original_name == "Referat æøå.pdf"
    assert event.size == len(data)
    assert event.content_type == "application/pdf"
    assert event.source == str(path)
    assert harness.blobs.get(event.blob_ref) == data
    assert path.exists()  # never touched without move_processed


async def test_same_bytes_under_another_name_is_known(harness: Harness) -> None:
    (harness.inbox / "a.txt").write_text("samme referat")
    (harness.inbox / "b.txt").write_text("samme referat")
    first = await ingest_file(harness.inbox / "a.txt", harness.deps)
    second = await ingest_file(harness.inbox / "b.txt", harness.deps)
    assert (first.status, second.status) == ("new", "known")
    assert first.document_id == second.document_id
    assert len(harness.published) == 1


async def test_duplicates_in_one_batch_publish_once(harness: Harness) -> None:
    paths = [harness.inbox / f"{n}.txt" for n in range(3)]
    for path in paths:
        path.write_text("same")
    results = await ingest_many(paths, harness.deps)
    assert [r.status for r in results] == ["new", "known", "known"]
    assert len(harness.published) == 1


async def test_a_changed_file_with_the_same_name_is_a_new_document(harness: Harness) -> None:
    path = harness.inbox / "referat.txt"
    path.write_text("version 1")
    await ingest_file(path, harness.deps)
    path.write_text("version 2")
    await ingest_file(path, harness.deps)
    assert len({event.document_id for event in harness.published}) == 2


async def test_rejections_are_dead_lettered_once(harness: Harness, tmp_path: Path) -> None:
    (harness.inbox / "empty.pdf").write_bytes(b"")
    (harness.inbox / "big.txt").write_bytes(b"x" * 20_000)
    (tmp_path / "outside.txt").write_text("secret")
    (harness.inbox / "link.txt").symlink_to(tmp_path / "outside.txt")
    paths = [harness.inbox / name for name in ("empty.pdf", "big.txt", "link.txt")]
    results = await ingest_many(paths, harness.deps)
    assert [r.status for r in results] == ["rejected"] * 3
    assert harness.published == []
    reasons = {event.original_name: event.error for event in harness.dead}
    assert reasons["empty.pdf"] == "empty file"
    assert reasons["big.txt"] == "file is 0.0 MB, over the 0.01 MB cap"
    assert reasons["link.txt"].startswith("symlink not followed")
    for event in harness.dead:
        assert event.service == "ingest"
        assert event.retryable is False
        payload = json.loads(event.payload)
        assert set(payload) == {"path", "name", "size"}
    # A rescan finds the same files again: no second dead letter for the same version.
    await ingest_many(paths, harness.deps)
    assert len(harness.dead) == 3


async def test_moves_only_when_asked(harness: Harness) -> None:
    harness.deps.move_processed = True
    harness.deps.move_rejected = True
    (harness.inbox / "ok.txt").write_text("referat")
    (harness.inbox / "dup.txt").write_text("referat")
    (harness.inbox / "empty.txt").write_text("")
    names = ("ok.txt", "dup.txt", "empty.txt")
    await ingest_many([harness.inbox / name for name in names], harness.deps)
    assert sorted(p.name for p in (harness.inbox / "processed").iterdir()) == ["dup.txt", "ok.txt"]
    rejected = harness.inbox / "rejected"
    assert sorted(p.name for p in rejected.iterdir()) == ["empty.txt", "empty.txt.reason.txt"]
    assert (rejected / "empty.txt.reason.txt").read_text() == "empty file\n"
    assert not any((harness.inbox / name).exists() for name in names)


async def test_files_outside_the_inbox_are_never_moved(harness: Harness, tmp_path: Path) -> None:
    harness.deps.move_processed = True
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("referat")
    assert (await ingest_file(outside, harness.deps)).status == "new"
    assert outside.exists()


async def test_a_vanished_file_is_gone(harness: Harness) -> None:
    result = await ingest_file(harness.inbox / "never-there.pdf", harness.deps)
    assert result.status == "gone"
    assert harness.published == []
    assert harness.dead == []
