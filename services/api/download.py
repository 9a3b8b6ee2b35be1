"""The original file of a document, from the blob store, under the name it was dropped with."""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from services.api.errors import ApiError
from services.readmodel.results import DocumentInfo
from services.store.exports.columns import is_pdf as is_pdf_document
from shared.blobs import BlobNotFound, BlobRefRejected, BlobStore, sha256_hex
from shared.filenames import readable_name, unescape_stored_name
from shared.logging import get_logger

log = get_logger(__name__)

# Control characters (C0 and C1), quotes, slashes and semicolons; a backslash too, which many clients take
# for a folder (`Referat\xe5.txt` was saved as `xe5.txt`).
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\"/;\\]")
_FALLBACK_UNSAFE = re.compile(r"[^A-Za-z0-9._ ()+-]")
_DANISH = str.maketrans({"Æ": "AE", "æ": "ae", "Ø": "O", "ø": "o"})


def _clean(name: str, document_id: str) -> str:
    """The name to save as: the last component of a bucket key, its characters kept (`Byråd_æø.txt`).

    Names from the ingest are readable already (`shared.filenames`); one stored before that carries its
    undecodable bytes as `\\xNN` escapes or lone surrogates, and gets its letters back here. What no file
    name should hold (controls, quotes, slashes, backslashes, semicolons) becomes `_`.
    """
    base = readable_name(unescape_stored_name(name.rsplit("/", 1)[-1]))
    base = _UNSAFE.sub("_", base).strip(" .")
    return base[:200] or f"{document_id[:16]}.bin"


def content_disposition(name: str, document_id: str, disposition: str = "attachment") -> str:
    """`attachment` (or `inline`) with an ASCII `filename` and the exact `filename*` (RFC 6266 / RFC 8187)."""
    clean = _clean(name, document_id)
    # For old clients: accents dropped, the Danish letters spelled out, anything else non-ASCII as `_`.
    folded = unicodedata.normalize("NFKD", clean.translate(_DANISH))
    ascii_name = "".join(ch for ch in folded if not unicodedata.combining(ch))
    ascii_name = _FALLBACK_UNSAFE.sub("_", ascii_name).strip(" .") or f"{document_id[:16]}.bin"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(clean, safe='')}"


def media_type(info: DocumentInfo) -> str:
    """The stored content type, else one guessed from the name, else octet-stream."""
    if info.content_type:
        return info.content_type
    guessed, _ = mimetypes.guess_type(_clean(info.original_name, info.document_id))
    return guessed or "application/octet-stream"


def is_pdf(info: DocumentInfo) -> bool:
    """Whether the document says it is a PDF (its stored type or its name); the bytes are checked on serving."""
    return is_pdf_document(info.content_type, info.original_name)


async def _verified_bytes(blobs: BlobStore, info: DocumentInfo) -> bytes:
    """The document's bytes from the blob store, checked against its digest; ApiError when there are none."""
    if not info.blob_ref:
        raise ApiError(404, "the store has no reference to this document's original file")
    try:
        data = await run_in_threadpool(blobs.get, info.blob_ref)
    except BlobNotFound:
        raise ApiError(404, "the original file is missing from the blob store") from None
    except BlobRefRejected as exc:
        log.error("blob reference refused", document_id=info.document_id, error=str(exc))
        raise ApiError(404, "the original file is not in this server's blob store") from None
    if sha256_hex(data) != info.document_id:
        # Content-addressed: bytes that do not hash to the id are not the document, whatever their name.
        log.error("blob does not match its digest", document_id=info.document_id)
        raise ApiError(500, "the stored file does not match its digest; the server log has the details")
    return data


def _served(data: bytes, info: DocumentInfo, media: str, disposition: str) -> Response:
    return Response(
        content=data,
        media_type=media,
        headers={
            "Content-Disposition": content_disposition(info.original_name, info.document_id, disposition),
            "ETag": f'"{info.document_id}"',
            # The URL names the bytes' digest: they never change.
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        },
    )


async def original_file(blobs: BlobStore, info: DocumentInfo) -> Response:
    """The document's bytes as an attachment; 404 when the blob store does not have them."""
    return _served(await _verified_bytes(blobs, info), info, media_type(info), "attachment")


async def inline_pdf(blobs: BlobStore, info: DocumentInfo) -> Response:
    """A PDF document's bytes to show in the browser's viewer (`inline`, `application/pdf`), so a link with
    `#page=N` opens it at the item's page; 404 for any other document.

    Only bytes that start as a PDF are served inline, whatever the stored type says: anything else shown
    inline from this origin (an HTML file dropped as `x.pdf`) would run as a page of the site.
    """
    if not is_pdf(info):
        raise ApiError(404, "this document is not a PDF: download the original file instead")
    data = await _verified_bytes(blobs, info)
    if not data.startswith(b"%PDF-"):
        raise ApiError(404, "this document's bytes are not a PDF: download the original file instead")
    return _served(data, info, "application/pdf", "inline")
