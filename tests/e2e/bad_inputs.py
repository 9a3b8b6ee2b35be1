"""A bad-input corpus made by the tests: what must be rejected with a reason, and what must still work."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

from fpdf import FPDF

from tests.conftest import SEEDS


def text_pdf(text: str, pages_of_filler: int = 0) -> bytes:
    """A PDF with a real text layer (core Helvetica: latin-1, which covers Danish letters)."""
    pdf = FPDF()
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", size=9)
    safe = text.encode("latin-1", "replace").decode("latin-1")
    pdf.multi_cell(0, 4, safe)
    for page in range(pages_of_filler):
        pdf.add_page()
        pdf.multi_cell(0, 4, f"Bilagsmateriale side {page + 1}. " + "Tekst uden betydning for sagen. " * 60)
    return bytes(pdf.output())


def blank_pdf() -> bytes:
    """A PDF with drawing only: no text layer (a scan without OCR)."""
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 150, style="F")
    return bytes(pdf.output())


def encrypted_pdf(text: str) -> bytes:
    """A PDF that needs a password to open."""
    pdf = FPDF()
    pdf.set_encryption(owner_password="owner", user_password="secret")
    pdf.add_page()
    pdf.set_font("Helvetica", size=9)
    pdf.multi_cell(0, 4, text[:2000].encode("latin-1", "replace").decode("latin-1"))
    return bytes(pdf.output())


PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + os.urandom(64)
NEWS = (
    "Ny cykelsti åbner i weekenden\n\nAf Jens Hansen\n\nFredag klippes snoren til den nye cykelsti langs "
    "åen. Borgmesteren glæder sig, og cyklisterne har ventet længe. Stien har kostet 12 mio. kr.\n" * 5
)
CSV = "kommune,udvalg,dato\nVejle,Arbejdsmarkedsudvalget,2023-11-23\n" * 20


@dataclass(frozen=True)
class BadCorpus:
    """File name -> bytes; which names must be rejected; which seeds the good files repeat (for expectations)."""

    files: dict[str, bytes]
    rejected: set[str]
    good_seed_of: dict[str, str]  # good file name -> the seed whose meeting it holds


def make_corpus(max_file_mb: float) -> BadCorpus:
    """Every kind of bad input the issue lists, plus awkward-but-valid files that must be processed."""
    seeds = {p.name: p.read_bytes() for p in sorted(SEEDS.glob("*.txt"))}
    s0, s1, s2 = (seeds[n] for n in sorted(seeds)[:3])
    first = sorted(seeds)
    seed_text = s0.decode("utf-8")
    real_pdf = text_pdf(seed_text)
    rnd = random.Random(7)
    rejected = {
        "empty.txt": b"",
        "garbage.bin": bytes(rnd.getrandbits(8) for _ in range(4096)),
        "photo.pdf": PNG,
        "truncated.pdf": real_pdf[: len(real_pdf) // 2],
        "malformed.pdf": b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\nthis is not a pdf body\n%%EOF\n",
        "encrypted.pdf": encrypted_pdf(seed_text),
        "scan-without-text.pdf": blank_pdf(),
        "too-big.txt": b"Referat " * int(max_file_mb * 1024 * 1024 / 8 + 1024),
        "news-article.txt": NEWS.encode("utf-8"),
        "spreadsheet.csv": CSV.encode("utf-8"),
    }
    good = {
        "referat med mellemrum.txt": (s0 + b"\n\n", first[0]),
        "Referat æøå ÆØÅ.txt": (s1 + b"\n\n", first[1]),
        ("l" * 200) + ".txt": (s2 + b"\n\n", first[2]),
        "-leading-dash.txt": (s0 + b"\n\n\n", first[0]),
        "two..dots..txt": (s1 + b"\n\n\n", first[1]),
        "cp1252.txt": (s1.decode("utf-8").encode("cp1252", "replace"), first[1]),
        "mixed-encoding.txt": (_mixed(s2), first[2]),
        "long-200-pages.pdf": (text_pdf(seed_text, pages_of_filler=200), first[0]),
    }
    files = {**rejected, **{name: data for name, (data, _seed) in good.items()}}
    return BadCorpus(files, set(rejected), {name: seed for name, (_d, seed) in good.items()})


def _mixed(data: bytes) -> bytes:
    # Second half re-encoded as cp1252: a file pasted together from two sources.
    text = data.decode("utf-8")
    half = len(text) // 2
    return text[:half].encode("utf-8") + text[half:].encode("cp1252", "replace")


def write_corpus(corpus: BadCorpus, inbox: Path) -> Path:
    """Write the files into the inbox plus a symlink pointing outside it; returns the symlink."""
    outside = inbox.parent / "outside-secret.txt"
    outside.write_bytes(next(iter(SEEDS.glob("*.txt"))).read_bytes() + b"\n\n\n\n\n")
    for name, data in corpus.files.items():
        (inbox / name).write_bytes(data)
    link = inbox / "link-to-outside.txt"
    link.symlink_to(outside)
    return link
