"""S3BlobStore against a real S3 endpoint (moto over HTTP)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from shared.blobs import BlobNotFound, LocalBlobStore, open_blob_store
from shared.blobs_s3 import S3BlobStore, make_s3_client
from shared.settings import Settings

pytestmark = pytest.mark.integration


def test_put_get_round_trip(s3_settings: Settings) -> None:
    store = S3BlobStore.from_settings(s3_settings)
    data = "Referat: Økonomiudvalget besluttede …".encode()
    digest = hashlib.sha256(data).hexdigest()
    ref = store.put(data)
    assert ref == f"s3://{s3_settings.s3_bucket}/blobs/{digest[:2]}/{digest[2:4]}/{digest}"
    assert store.get(ref) == data


def test_put_is_idempotent(s3_settings: Settings) -> None:
    store = S3BlobStore.from_settings(s3_settings)
    uploads: list[str] = []
    store.client.meta.events.register("before-call.s3.PutObject", lambda **kw: uploads.append("put"))
    first = store.put(b"same bytes")
    assert store.put(b"same bytes") == first
    assert uploads == ["put"]  # the second put found the blob with HEAD and uploaded nothing
    listed = make_s3_client(s3_settings).list_objects_v2(Bucket=store.bucket, Prefix="blobs/")
    assert listed["KeyCount"] == 1


def test_missing_blob_raises_blob_not_found(s3_settings: Settings) -> None:
    store = S3BlobStore.from_settings(s3_settings)
    with pytest.raises(BlobNotFound):
        store.get(f"s3://{s3_settings.s3_bucket}/blobs/00/00/{'0' * 64}")
    with pytest.raises(BlobNotFound):
        store.get("file:///not/s3")


def test_open_blob_store_writes_to_s3_and_reads_either_scheme(s3_settings: Settings, tmp_path: Path) -> None:
    s3_settings = s3_settings.model_copy(update={"data_dir": tmp_path})
    store = open_blob_store(s3_settings)
    ref = store.put(b"x")
    assert ref.startswith(f"s3://{s3_settings.s3_bucket}/")
    assert store.get(ref) == b"x"
    # A parser configured for S3 still reads a document an older, local-blob ingest stored.
    local_ref = LocalBlobStore(s3_settings.blobs_dir).put(b"local bytes")
    assert store.get(local_ref) == b"local bytes"
    # And one configured for local blobs reads s3:// references.
    local_settings = s3_settings.model_copy(update={"blob_store": "local"})
    assert open_blob_store(local_settings).get(ref) == b"x"


def test_from_settings_needs_a_bucket() -> None:
    with pytest.raises(ValueError, match="MINUTES_S3_BUCKET"):
        S3BlobStore.from_settings(Settings(blob_store="s3", s3_bucket=None))


def test_a_record_is_kept_beside_the_blob_and_only_blobs_are_listed(s3_settings: Settings) -> None:
    import datetime as dt

    from shared.blobs import BlobRecord

    store = S3BlobStore.from_settings(s3_settings)
    data = b"Referat med en record"
    digest = hashlib.sha256(data).hexdigest()
    ref = store.put(data)
    assert store.get_record(digest) is None
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    record = BlobRecord(
        document_id=digest, original_name="møde æøå.txt", size=len(data), content_type="text/plain",
        source="s3://inbox/møde æøå.txt", received_at=when,
    )
    store.put_record(record)
    store.put_record(record.model_copy(update={"original_name": "later.txt"}))  # the first name stays
    assert store.get_record(digest) == record
    listed = [blob for blob in store.list_blobs() if blob.document_id == digest]
    assert [(b.ref, b.size) for b in listed] == [(ref, len(data))]
    assert listed[0].modified.tzinfo is not None
    assert all(not b.ref.endswith(".json") for b in store.list_blobs())
