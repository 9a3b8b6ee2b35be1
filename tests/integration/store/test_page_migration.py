"""A page is a PDF's page or none: the read layer over the real corpus, and 0006 on rows stored before it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from services.ingest.files import sniff_content_type
from services.readmodel.filter import ReadFilter
from services.readmodel.meetings import get_meeting
from services.store.db import create_engine, migrate
from tests.integration.store.corpus_store import StoredDoc, corpus, fill
from tests.integration.store.test_reader import all_hits

pytestmark = pytest.mark.integration


def _pdf(doc: StoredDoc) -> bool:
    return doc.path.suffix == ".pdf"


def _sniffed(doc: StoredDoc) -> StoredDoc:
    """The corpus document with the content type ingest sniffs from its bytes (the fixture says octet-stream)."""
    received = doc.received.model_copy(update={"content_type": sniff_content_type(doc.path.read_bytes())})
    return StoredDoc(doc.path, received, doc.meeting)


async def _pages(url: str) -> tuple[dict[str, list[int | None]], dict[str, set[int | None]]]:
    """Per document: the pages of its items in the meeting view, and the pages its decisions' provenance shows."""
    engine = create_engine(url)
    try:
        items: dict[str, list[int | None]] = {}
        hits: dict[str, set[int | None]] = {}
        for doc in corpus():
            detail = await get_meeting(engine, doc.received.document_id)
            assert detail is not None
            items[doc.path.name] = [i.page for i in detail.items]
        for hit in await all_hits(engine, ReadFilter(), limit=500):
            hits.setdefault(next(d.path.name for d in corpus() if d.received.document_id == hit.document_id),
                            set()).add(hit.provenance.page)  # fmt: skip
        return items, hits
    finally:
        await engine.dispose()


def _assert_only_pdfs_have_pages(items: dict[str, list[int | None]], hits: dict[str, set[int | None]]) -> None:
    kinds = {d.path.suffix for d in corpus()}
    assert {".pdf", ".html", ".json", ".xml", ".txt"} <= kinds
    for doc in corpus():
        pages = items[doc.path.name]
        if _pdf(doc):
            assert pages == [i.page for i in doc.meeting.items] and None not in pages, doc.path.name
            assert None not in hits.get(doc.path.name, set()), doc.path.name
        else:
            assert set(pages) == {None}, doc.path.name
            assert hits.get(doc.path.name, {None}) == {None}, doc.path.name


async def test_provenance_has_a_page_only_for_pdf_items(database_url: str) -> None:
    await migrate(database_url)
    engine = create_engine(database_url)
    try:
        await fill(engine, tuple(_sniffed(d) for d in corpus()))
    finally:
        await engine.dispose()
    _assert_only_pdfs_have_pages(*await _pages(database_url))


async def test_0006_clears_the_page_of_items_of_non_pdf_documents(database_url: str) -> None:
    # The store's code writes today's schema, so the rows go in at head, get what the parser stored before 0006
    # (below), and the database is stamped back to 0005: upgrading to 0006 then runs exactly that migration.
    await migrate(database_url)
    docs = [_sniffed(d) for d in corpus()]
    # Two documents whose event carried no content type: a PDF keeps its pages by its name, a text loses them.
    unknown = [next(d for d in docs if _pdf(d)), next(d for d in docs if d.path.suffix == ".txt")]
    engine = create_engine(database_url)
    try:
        await fill(engine, tuple(docs))
        async with engine.begin() as conn:
            # What the parser stored before: the form-feed page of text (1), a page on every item.
            await conn.execute(sa.text("UPDATE agenda_items SET page = 1 WHERE page IS NULL"))
            for doc in unknown:
                await conn.execute(sa.text("UPDATE documents SET content_type = NULL WHERE document_id = :d"),
                                   {"d": doc.received.document_id})  # fmt: skip
            stored = (await conn.execute(sa.text("SELECT count(*) FROM agenda_items WHERE page IS NULL"))).scalar()
        assert stored == 0
        async with engine.begin() as conn:
            await conn.execute(sa.text("UPDATE alembic_version SET version_num = '0005_subscriptions'"))
        await migrate(database_url, "0006_page_only_for_pdf")
    finally:
        await engine.dispose()
    _assert_only_pdfs_have_pages(*await _pages(database_url))
