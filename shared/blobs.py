"""Content-addressed blob store: documents travel through Redis as references, never inline (claim-check)."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable
from urllib.parse import quote_from_bytes, unquote, urlparse

from pydantic import ValidationError

from shared.contracts.base import Contract
from shared.settings import Settings

# A blob's name is its sha256; anything else beside it (sidecar records, temp files) is not a blob.
BLOB_NAME = re.compile(r"^[0-9a-f]{64}$")
# Suffix of a blob's sidecar record (`<sha256>.json`).
RECORD_SUFFIX = ".json"


class BlobNotFound(LookupError):
    """No blob under that reference."""


class BlobRefRejected(ValueError):
    """A reference outside the blob store (another folder, bucket or prefix): never read."""


class HashObject(Protocol):
    """What `hashlib.sha256()` returns, as far as the blob store and ingest use it."""

    def update(self, data: bytes, /) -> None:
        """Feed more bytes."""
        ...

    def hexdigest(self) -> str:
        """The digest of every byte fed so far."""
        ...


# Makes a fresh sha256 (ingest's deps carry one, so a test can count how often a file is hashed).
HashFactory = Callable[[], HashObject]


class BlobStore(Protocol):
    """Stores bytes under their sha256 and hands back a reference any worker can resolve."""

    def put(self, data: bytes, digest: str | None = None) -> str:
        """Store the bytes (idempotent) and return their reference; `digest` is their sha256 when the caller
        has it already (ingest hashes while it reads), so it is not computed twice."""
        ...

    def get(self, ref: str) -> bytes:
        """The bytes behind a reference."""
        ...


class BlobRecord(Contract):
    """What ingest knew of a blob when it first stored it, kept beside it (`<sha256>.json`).

    Lets `minutes check` re-publish a document whose DocumentReceived Redis lost with its original name,
    size, content type and time. Blobs stored before records existed have none (optional everywhere).
    """

    schema_version: Literal[1] = 1
    document_id: str
    original_name: str
    size: int
    content_type: str
    source: str = ""
    received_at: dt.datetime


@dataclass(frozen=True)
class BlobListing:
    """One blob found in the store: its id, its reference, its size and when it was written."""

    document_id: str
    ref: str
    size: int
    modified: dt.datetime


@runtime_checkable
class BlobCatalog(Protocol):
    """A blob store that also keeps records and can list its blobs (both real stores; not every test fake)."""

    def put_record(self, record: BlobRecord) -> None:
        """Keep the record beside its blob unless one is there (the first name wins, like ingest's seen set)."""
        ...

    def get_record(self, document_id: str) -> BlobRecord | None:
        """The blob's record, or None (none written, or unreadable)."""
        ...

    def list_blobs(self) -> Iterator[BlobListing]:
        """Every blob of the store, in no particular order."""
        ...


def record_of(raw: bytes) -> BlobRecord | None:
    """The record in these bytes, or None when they are not one."""
    try:
        return BlobRecord.model_validate_json(raw)
    except ValidationError:
        return None  # a torn or foreign file: the blob is re-published with the fallbacks


def sha256_hex(data: bytes) -> str:
    """The document id of some bytes."""
    return hashlib.sha256(data).hexdigest()


class LocalBlobStore:
    """Blobs as files under `root/ab/cd/<sha256>`, written atomically (temp file, fsync, rename)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.realpath(root))

    def path_for(self, digest: str) -> Path:
        """Where the blob with this sha256 lives."""
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes, digest: str | None = None) -> str:
        """Store the bytes once; a second put of the same bytes only returns the reference."""
        digest = digest or sha256_hex(data)
        path = self.path_for(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_atomically(path, data)
        return path.as_uri()

    def put_record(self, record: BlobRecord) -> None:
        """Write `<sha256>.json` beside the blob, atomically, unless it exists."""
        path = self.path_for(record.document_id).with_suffix(RECORD_SUFFIX)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomically(path, record.model_dump_json().encode())

    def get_record(self, document_id: str) -> BlobRecord | None:
        """The record beside the blob, or None."""
        try:
            raw = self.path_for(document_id).with_suffix(RECORD_SUFFIX).read_bytes()
        except OSError:
            return None
        return record_of(raw)

    def list_blobs(self) -> Iterator[BlobListing]:
        """Walk `root/ab/cd/`: only names that are a sha256 (not records, not temp files).

        Plain strings, not Paths: the walk is one scandir per fan-out folder, and Path objects were most of
        the time left over.
        """
        for first in _subdirs(str(self.root)):
            for second in _subdirs(first):
                with os.scandir(second) as entries:
                    for entry in entries:
                        if not BLOB_NAME.match(entry.name) or not entry.is_file(follow_symlinks=False):
                            continue
                        try:
                            st = entry.stat(follow_symlinks=False)
                        except FileNotFoundError:
                            continue
                        modified = dt.datetime.fromtimestamp(st.st_mtime, dt.UTC)
                        # What Path.as_uri() gives for an absolute path, as `put` returns it.
                        ref = "file://" + quote_from_bytes(os.fsencode(entry.path))
                        yield BlobListing(entry.name, ref, st.st_size, modified)

    def get(self, ref: str) -> bytes:
        """Read a `file://` reference, only if it names a blob under the root (no `..`, no symlink out)."""
        parsed = urlparse(ref)
        if parsed.scheme != "file" or parsed.netloc not in ("", "localhost"):
            raise BlobRefRejected(f"not a local blob reference: {ref[:300]}")
        path = Path(os.path.realpath(unquote(parsed.path)))
        if self.root not in path.parents:
            raise BlobRefRejected(f"blob reference outside the blob store {self.root}: {ref[:300]}")
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError as exc:
            raise BlobNotFound(ref) from exc
        with os.fdopen(fd, "rb") as handle:
            return handle.read()


def _write_atomically(path: Path, data: bytes) -> None:
    """Temp file in the same folder, fsync, rename: readers see the whole file or none."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _subdirs(folder: str) -> list[str]:
    """The two-hex-digit fan-out folders of the blob tree (none when the tree does not exist yet)."""
    try:
        with os.scandir(folder) as entries:
            return [e.path for e in entries if len(e.name) == 2 and e.is_dir(follow_symlinks=False)]
    except FileNotFoundError:
        return []


class SchemeBlobStore:
    """Writes to the configured store; reads any reference by its scheme (file:// or s3://).

    So a parser configured for local blobs still reads documents an ingest on another host put in S3.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.local = LocalBlobStore(settings.blobs_dir)
        self._s3: BlobStore | None = None

    def _s3_store(self) -> BlobStore:
        if self._s3 is None:
            from shared.blobs_s3 import S3BlobStore  # imported lazily: boto3 is slow to import

            self._s3 = S3BlobStore.from_settings(self.settings)
        return self._s3

    def _configured(self) -> BlobStore:
        return self._s3_store() if self.settings.blob_store == "s3" else self.local

    def put(self, data: bytes, digest: str | None = None) -> str:
        """Store in the configured backend."""
        return self._configured().put(data, digest)

    def _catalog(self) -> BlobCatalog:
        store = self._configured()
        assert isinstance(store, BlobCatalog)  # both real backends are catalogs
        return store

    def put_record(self, record: BlobRecord) -> None:
        """Keep the record in the configured backend."""
        self._catalog().put_record(record)

    def get_record(self, document_id: str) -> BlobRecord | None:
        """The record from the configured backend."""
        return self._catalog().get_record(document_id)

    def list_blobs(self) -> Iterator[BlobListing]:
        """The blobs of the configured backend (where this host's ingest writes)."""
        return self._catalog().list_blobs()

    def get(self, ref: str) -> bytes:
        """Read from whichever backend the reference names: only the blob root, or the blob bucket's prefix."""
        if ref.startswith("s3://"):
            from shared.blobs_s3 import BLOB_PREFIX, parse_s3_ref

            bucket, key = parse_s3_ref(ref)
            if bucket != self.settings.s3_bucket or not key.startswith(BLOB_PREFIX) or ".." in key.split("/"):
                where = f"s3://{self.settings.s3_bucket}/{BLOB_PREFIX}"
                raise BlobRefRejected(f"blob reference outside {where}: {ref[:300]}")
            return self._s3_store().get(ref)
        return self.local.get(ref)


def open_blob_store(settings: Settings) -> BlobStore:
    """The blob store the settings ask for, able to read references of either kind."""
    return SchemeBlobStore(settings)
