"""The benchmark corpus: deterministic, varied, and parsed by the real parser exactly as the generator says."""

from __future__ import annotations

import hashlib

import pytest

from bench.corpus import generate_corpus, generate_document, is_pdf_index
from services.parser.core import parse_document


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    first = generate_corpus(12, seed=3, pdf_share=0.25)
    assert first == generate_corpus(12, seed=3, pdf_share=0.25)
    other = generate_corpus(12, seed=4, pdf_share=0.25)
    assert all(a.data != b.data for a, b in zip(first, other, strict=True))


def test_document_is_independent_of_corpus_size() -> None:
    # The steady phase may need more documents than the backfill: the first ones must not change.
    assert generate_corpus(30, seed=1)[:10] == generate_corpus(10, seed=1)
    assert generate_document(1, 5, pdf=False) == generate_corpus(10, seed=1, pdf_share=0.0)[5]


def test_item_counts_cover_one_to_forty() -> None:
    docs = generate_corpus(400, seed=0, pdf_share=0.0)
    counts = [d.expected_items for d in docs]
    assert min(counts) >= 1
    assert max(counts) <= 40
    assert sum(c <= 3 for c in counts) > 10
    assert sum(c >= 25 for c in counts) > 10


def test_every_document_is_distinct_and_decides_something() -> None:
    docs = generate_corpus(300, seed=0, pdf_share=0.0)
    assert len({hashlib.sha256(d.data).digest() for d in docs}) == len(docs)
    assert all(1 <= d.expected_decisions <= d.expected_items for d in docs)
    # Closed items without a decision occur, so decisions are not simply items.
    assert sum(d.expected_decisions for d in docs) < sum(d.expected_items for d in docs)


@pytest.mark.parametrize("share", [0.1, 0.25])
def test_share_of_pdfs_is_exact(share: float) -> None:
    assert sum(is_pdf_index(i, share) for i in range(200)) == round(200 * share)
    docs = generate_corpus(40, seed=2, pdf_share=share)
    pdfs = [d for d in docs if d.name.endswith(".pdf")]
    assert len(pdfs) == round(40 * share)
    assert all(d.data.startswith(b"%PDF-") for d in pdfs)
    assert all(d.data.decode("utf-8").startswith("REFERAT") for d in docs if d.name.endswith(".txt"))


def test_real_parser_finds_the_generated_items_and_decisions() -> None:
    sample = generate_corpus(20, seed=7, pdf_share=0.2)
    assert sum(d.name.endswith(".pdf") for d in sample) == 4
    for doc in sample:
        meeting = parse_document(doc.data, doc.name)
        assert (len(meeting.items), len(meeting.decisions)) == (doc.expected_items, doc.expected_decisions), doc.name
