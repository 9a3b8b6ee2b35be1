"""Attachment links of stored items: the parser's references to the publisher's files, made into addresses
for documents fetched from a followed source — through that source type's module, which alone knows where
its portal serves a file (`attachment_url`). The store links to attachments; it never downloads one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from services.ingest.sources.types import source_type
from shared.contracts.events import AttachmentLink
from shared.contracts.meeting import AgendaItem
from shared.logging import get_logger

if TYPE_CHECKING:  # the sources' tables are the store's to read only where it must (repository.store_events)
    from services.ingest.sources.state import Origin

log = get_logger(__name__)

# A reference to its URL, for the documents of one source.
LinkMaker = Callable[[str], str]


def link_maker(origin: Origin | None) -> LinkMaker | None:
    """How the attachments of a document from `origin` are linked; None for a dropped file, or for a source
    removed since (no base URL left) or of a type this version does not know (said in the log)."""
    if origin is None or origin.source_type is None or origin.base_url is None:
        return None
    try:
        kind = source_type(origin.source_type)
    except ValueError as exc:
        log.warning("attachments not linked", page=origin.page_url, reason=str(exc))
        return None
    base = origin.base_url
    return lambda ref: kind.attachment_url(base, ref)


def stored_refs(item: AgendaItem, make: LinkMaker | None) -> list[dict[str, Any]] | None:
    """`agenda_items.attachment_refs` of an item: `{name, ref, url}` per attachment, None when it has none."""
    if not item.attachment_refs:
        return None
    return [
        {"name": r.name, "ref": r.ref, "url": make(r.ref) if make is not None and r.ref else None}
        for r in item.attachment_refs
    ]


def links(stored: Sequence[dict[str, Any]] | None) -> tuple[AttachmentLink, ...]:
    """The attachments of stored refs that have an address, as the decision events carry them."""
    return tuple(AttachmentLink(name=r["name"], url=r["url"]) for r in stored or () if r.get("url"))
