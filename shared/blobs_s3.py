"""Content-addressed blob store in an S3-compatible bucket (`s3://bucket/blobs/ab/cd/<sha256>`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from shared.blobs import BLOB_NAME, RECORD_SUFFIX, BlobListing, BlobNotFound, BlobRecord, record_of, sha256_hex
from shared.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
else:
    S3Client = Any

# Blobs live under this prefix of the bucket; the bucket watcher skips it so stored blobs are never re-ingested.
BLOB_PREFIX = "blobs/"

# Error codes meaning "no such object" across AWS, MinIO, SeaweedFS, Garage and moto (HEAD has no body: "404").
_MISSING = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchBucket"})


def make_s3_client(settings: Settings) -> S3Client:
    """A boto3 S3 client for the configured endpoint (path-style, bounded retries and timeouts)."""
    config = Config(
        # Path-style: self-hosted servers in compose have no wildcard DNS for virtual-host buckets.
        s3={"addressing_style": "path"},
        retries={"mode": "standard", "max_attempts": 5},
        connect_timeout=5,
        read_timeout=60,
        # boto3 >= 1.36 adds CRC checksums to every upload by default; several S3-compatible servers reject
        # or mishandle them, so only send them where the API requires it.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    secret = settings.s3_secret_access_key.get_secret_value() if settings.s3_secret_access_key else None
    # A private session per client: boto3's default session is not thread-safe and we call from threads.
    session = boto3.session.Session()
    client: S3Client = session.client(
        "s3",
        endpoint_url=settings.s3_endpoint_url,
        aws_access_key_id=settings.s3_access_key_id,
        aws_secret_access_key=secret,
        region_name=settings.s3_region,
        config=config,
    )
    return client


def is_missing(exc: ClientError) -> bool:
    """True when a botocore error says the object (or bucket) does not exist."""
    code = str(exc.response.get("Error", {}).get("Code", ""))
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in _MISSING or status == 404


def parse_s3_ref(ref: str) -> tuple[str, str]:
    """Split `s3://bucket/key` into bucket and key."""
    parsed = urlparse(ref)
    key = parsed.path.lstrip("/")
    if parsed.scheme != "s3" or not parsed.netloc or not key:
        raise BlobNotFound(f"not an s3 blob reference: {ref}")
    return parsed.netloc, key


class S3BlobStore:
    """Blobs as objects `blobs/ab/cd/<sha256>` in one bucket; a put of known bytes only returns the reference."""

    def __init__(self, client: S3Client, bucket: str, prefix: str = BLOB_PREFIX) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    @classmethod
    def from_settings(cls, settings: Settings) -> S3BlobStore:
        """The store for `MINUTES_S3_*` settings."""
        if not settings.s3_bucket:
            raise ValueError("MINUTES_BLOB_STORE=s3 needs MINUTES_S3_BUCKET")
        return cls(make_s3_client(settings), settings.s3_bucket)

    def key_for(self, digest: str) -> str:
        """Object key of the blob with this sha256."""
        return f"{self.prefix}{digest[:2]}/{digest[2:4]}/{digest}"

    def ref_for(self, digest: str) -> str:
        """Reference handed to other services for the blob with this sha256."""
        return f"s3://{self.bucket}/{self.key_for(digest)}"

    def put(self, data: bytes, digest: str | None = None) -> str:
        """Store the bytes once (HEAD first, since an S3 PUT is atomic but not free) and return the reference;
        `digest` is their sha256 when the caller has it already."""
        digest = digest or sha256_hex(data)
        key = self.key_for(digest)
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if not is_missing(exc):
                raise
            # Same key always means same bytes, so a concurrent duplicate PUT is harmless.
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType="application/octet-stream")
        return self.ref_for(digest)

    def get(self, ref: str) -> bytes:
        """Read an `s3://` reference (any bucket the credentials can read)."""
        bucket, key = parse_s3_ref(ref)
        try:
            response = self.client.get_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if is_missing(exc):
                raise BlobNotFound(ref) from exc
            raise
        body: bytes = response["Body"].read()
        return body

    def put_record(self, record: BlobRecord) -> None:
        """Keep the record as the object `<key>.json` beside the blob, unless there is one (HEAD first).

        A sidecar object rather than object metadata: metadata is ASCII-only and cannot be added to an
        existing object without copying it, and file names here are any bytes the OS allows.
        """
        key = self.key_for(record.document_id) + RECORD_SUFFIX
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
            return
        except ClientError as exc:
            if not is_missing(exc):
                raise
        body = record.model_dump_json().encode()
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")

    def get_record(self, document_id: str) -> BlobRecord | None:
        """The record object beside the blob, or None."""
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.key_for(document_id) + RECORD_SUFFIX)
        except ClientError as exc:
            if is_missing(exc):
                return None
            raise
        return record_of(response["Body"].read())

    def list_blobs(self) -> Iterator[BlobListing]:
        """Every blob object under the prefix (records skipped), a listing page at a time."""
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
        for page in pages:
            for obj in page.get("Contents", []):
                key = obj["Key"]
                name = key.rsplit("/", 1)[-1]
                if not BLOB_NAME.match(name):
                    continue
                modified = obj["LastModified"]
                if modified.tzinfo is None:
                    modified = modified.replace(tzinfo=dt.UTC)
                yield BlobListing(name, self.ref_for(name), int(obj.get("Size", 0)), modified)
