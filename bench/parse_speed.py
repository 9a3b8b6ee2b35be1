"""Parse-only throughput, one core: `python -m bench.parse_speed`.

The text seeds and their PDF versions (generated once with bench.corpus_pdf), and the real corpus
from its original files (PDF, portal HTML, portal JSON, SBSYS XML); prints documents/s and MB/s, the
median of several repeats, and for real PDFs milliseconds per page. `measure` and `real_corpus` are
reused by `minutes bench`.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from pathlib import Path

from bench.corpus_pdf import text_to_pdf
from services.parser.core import DocumentError, parse_document

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "tests" / "fixtures" / "corpus" / "seeds"
REAL = ROOT / "tests" / "fixtures" / "corpus" / "real" / "docs"


def measure(docs: list[tuple[str, bytes]], repeats: int) -> dict[str, float]:
    """Parse every (name, bytes) document `repeats` times; median documents/s and MB/s over the repeats."""
    if not docs:
        return {"docs": 0, "repeats": repeats, "docs_per_s": 0.0, "mb_per_s": 0.0, "ms_per_doc": 0.0}
    for name, data in docs:  # warm up: imports, regex compilation, the municipality table
        parse_document(data, name)
    size = sum(len(data) for _, data in docs)
    timings: list[float] = []
    for _ in range(repeats):
        start = time.perf_counter()
        for name, data in docs:
            parse_document(data, name)
        timings.append(time.perf_counter() - start)
    median = statistics.median(timings)
    return {
        "docs": len(docs),
        "repeats": repeats,
        "docs_per_s": len(docs) / median,
        "mb_per_s": size / median / 1e6,
        "ms_per_doc": median / len(docs) * 1000,
    }


def real_corpus(repeats: int = 5) -> list[dict[str, float | str]]:
    """Per real document: median ms per parse, documents/s and, for PDFs, ms per page (refusals included)."""
    rows: list[dict[str, float | str]] = []
    for path in sorted(REAL.iterdir()):
        data = path.read_bytes()
        pages = _pdf_pages(data) if path.suffix == ".pdf" else 0
        timings: list[float] = []
        for _ in range(repeats + 1):  # the first run warms caches and imports
            start = time.perf_counter()
            # A refusal (the 1942 protocol) is timed like a parse: it is the work done.
            with contextlib.suppress(DocumentError):
                parse_document(data, path.name)
            timings.append(time.perf_counter() - start)
        median = statistics.median(timings[1:])
        row: dict[str, float | str] = {"file": path.name, "ms": round(median * 1000, 2),
                                       "docs_per_s": round(1 / median, 1), "kb": round(len(data) / 1024)}
        if pages:
            row["pages"] = pages
            row["ms_per_page"] = round(median * 1000 / pages, 2)
        rows.append(row)
    return rows


def _pdf_pages(data: bytes) -> int:
    import pypdfium2

    document = pypdfium2.PdfDocument(data)
    try:
        return len(document)
    finally:
        document.close()


def seed_documents() -> list[tuple[str, bytes]]:
    """The text seeds as bytes."""
    return [(p.name, p.read_bytes()) for p in sorted(SEEDS.glob("*.txt"))]


def pdf_documents(texts: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """PDF versions of the text seeds, with running headers and page-number footers."""
    out = []
    for name, data in texts:
        text = data.decode("utf-8")
        first = next(line for line in text.splitlines() if line.strip())
        header = first.replace("REFERAT ", "") + " - Åbent referat"
        out.append((name.replace(".txt", ".pdf"), text_to_pdf(text, header)))
    return out


def main() -> None:
    """Print the throughput for text and PDF seeds."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    texts = seed_documents()
    pdfs = pdf_documents(texts)
    for label, docs, repeats in (("text", texts, args.repeats * 4), ("pdf", pdfs, args.repeats)):
        r = measure(docs, repeats)
        print(f"{label:4}: {r['docs_per_s']:8.1f} docs/s  {r['mb_per_s']:6.2f} MB/s  "
              f"{r['ms_per_doc']:6.2f} ms/doc  ({r['docs']:.0f} docs x {r['repeats']:.0f} repeats, median)")
    rows = real_corpus(args.repeats)
    total_ms = sum(float(r["ms"]) for r in rows)
    print(f"real corpus: {len(rows)} documents, {len(rows) / total_ms * 1000:.1f} docs/s (median per document)")
    for row in rows:
        page = f"  {row['ms_per_page']:5.2f} ms/page ({row['pages']} p.)" if "pages" in row else ""
        print(f"  {row['file']:58} {row['ms']:8.2f} ms {row['docs_per_s']:7.1f} docs/s{page}")


if __name__ == "__main__":
    main()
