"""Each file is hashed once, as it is read, and typed by the parser's own format sniffer (issue 20).

The hashing is counted through the deps' `hash_factory` seam: every hash object ingest makes, and every byte
fed to it. The blob store is a real LocalBlobStore that also records whether it was handed the digest (else it
hashes the bytes again itself)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from faststream.redis import RedisBroker, StreamSub, TestRedisBroker

from services.ingest import files
from services.ingest.bootstrap import StreamOutbox, declare_publisher
from services.ingest.bucket import ingest_object
from services.ingest.handlers import IngestDeps, ingest_many
from shared import streams
from shared.blobs import HashObject, LocalBlobStore
from shared.contracts.events import DeadLettered, DocumentReceived
from tests.unit.ingest.fakes import MemorySeenStore

DOCS = Path(__file__).parents[2] / "fixtures" / "corpus" / "real" / "docs"
XML_EXPORT = DOCS / "ballerup-kmb-it-udvalget-2013-05-15-dagsorden.xml"
JSON_EXPORT = DOCS / "greve-byraad-2022-11-07-referat.json"


@dataclass
class CountingHashes:
    """A sha256 factory that counts the hash objects made and the bytes fed to them."""

    made: int = 0
    fed: int = 0

    def __call__(self) -> HashObject:
        self.made += 1
        real = hashlib.sha256()
        counter = self

        class Counted:
            def update(self, data: bytes, /) -> None:
                counter.fed += len(data)
                real.update(data)

            def hexdigest(self) -> str:
                return real.hexdigest()

        return Counted()


class RecordingBlobs(LocalBlobStore):
    """A LocalBlobStore that notes whether each put came with the digest (without one it hashes again)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.digests: list[str | None] = []

    def put(self, data: bytes, digest: str | None = None) -> str:
        self.digests.append(digest)
        return super().put(data, digest)


@dataclass
class Rig:
    deps: IngestDeps
    hashes: CountingHashes
    blobs: RecordingBlobs
    inbox: Path
    published: list[DocumentReceived] = field(default_factory=list)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    broker = RedisBroker()
    publisher = declare_publisher(broker)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    holder: list[Rig] = []

    @broker.subscriber(stream=StreamSub(streams.DOCUMENTS))
    async def sink(event: DocumentReceived) -> None:
        holder[0].published.append(event)

    async def dead_letters(event: DeadLettered) -> None:
        raise AssertionError(f"nothing here should be rejected: {event}")

    async with TestRedisBroker(broker):
        hashes = CountingHashes()
        blobs = RecordingBlobs(tmp_path / "blobs")
        outbox = StreamOutbox(publisher, None, dead_letters)
        deps = IngestDeps(blobs=blobs, seen=MemorySeenStore(), outbox=outbox, inbox=inbox, hash_factory=hashes)
        holder.append(Rig(deps, hashes, blobs, inbox))
        yield holder[0]


async def test_each_dropped_file_is_hashed_once_and_typed_as_the_parser_reads_it(rig: Rig) -> None:
    sources = {XML_EXPORT: files.XML, JSON_EXPORT: files.JSON}
    paths = []
    for source in sources:
        path = rig.inbox / source.name
        path.write_bytes(source.read_bytes())
        paths.append(path)
    results = await ingest_many(paths, rig.deps)

    assert [r.status for r in results] == ["new", "new"]
    assert rig.hashes.made == 2  # one hash object per file
    assert rig.hashes.fed == sum(source.stat().st_size for source in sources)  # each byte hashed once
    by_name = {event.original_name: event for event in rig.published}
    for source, content_type in sources.items():
        event = by_name[source.name]
        assert event.content_type == content_type
        assert event.document_id == hashlib.sha256(source.read_bytes()).hexdigest()
    # The blob store was handed every digest, so it did not hash the bytes a second time.
    assert sorted(d or "" for d in rig.blobs.digests) == sorted(e.document_id for e in rig.published)


async def test_a_bucket_object_is_hashed_once(rig: Rig) -> None:
    data = JSON_EXPORT.read_bytes()
    assert await ingest_object("meeting.json", data, "s3://b/meeting.json", rig.deps) == "new"
    assert (rig.hashes.made, rig.hashes.fed) == (1, len(data))
    assert rig.blobs.digests == [hashlib.sha256(data).hexdigest()]
    [event] = rig.published
    assert event.content_type == files.JSON


async def test_the_default_factory_is_sha256(tmp_path: Path) -> None:
    """Without a test's factory the ids are plain sha256 (the document id every service relies on)."""
    deps = IngestDeps(blobs=LocalBlobStore(tmp_path), seen=MemorySeenStore(), outbox=None)  # type: ignore[arg-type]
    hasher = deps.hash_factory()
    hasher.update(b"abc")
    assert hasher.hexdigest() == hashlib.sha256(b"abc").hexdigest()


@pytest.mark.parametrize("watch_inbox", [True, False])
def test_bootstrap_hands_the_factory_on(tmp_path: Path, watch_inbox: bool) -> None:
    from services.ingest.bootstrap import bootstrap
    from shared.settings import Settings

    settings = Settings(_env_file=None, data_dir=tmp_path, redis_url="redis://127.0.0.1:1/0")  # never connected
    hashes = CountingHashes()
    deps = bootstrap(settings, blobs=LocalBlobStore(tmp_path), watch_inbox=watch_inbox, hash_factory=hashes)
    assert deps.hash_factory is hashes
    assert bootstrap(settings, blobs=LocalBlobStore(tmp_path)).hash_factory is hashlib.sha256
