"""Content-addressed blob store: documents travel through Redis as references, never inline (claim-check)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

from shared.settings import Settings


class BlobNotFound(LookupError):
    """No blob under that reference."""


class BlobRefRejected(ValueError):
    """A reference outside the blob store (another folder, bucket or prefix): never read."""


class BlobStore(Protocol):
    """Stores bytes under their sha256 and hands back a reference any worker can resolve."""

    def put(self, data: bytes) -> str:
        """Store the bytes (idempotent) and return their reference."""
        ...

    def get(self, ref: str) -> bytes:
        """The bytes behind a reference."""
        ...


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

    def put(self, data: bytes) -> str:
        """Store the bytes once; a second put of the same bytes only returns the reference."""
        digest = sha256_hex(data)
        path = self.path_for(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
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
        return path.as_uri()

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

    def put(self, data: bytes) -> str:
        """Store in the configured backend."""
        return (self._s3_store() if self.settings.blob_store == "s3" else self.local).put(data)

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
