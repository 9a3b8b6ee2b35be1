"""The parse process pool contains hangs, crashes and memory blow-ups, and keeps working afterwards."""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable

import pytest

from services.parser.pool import ParseFailed, ParsePool
from shared.contracts.meeting import ParsedMeeting
from tests.conftest import SEEDS
from tests.integration.parser_service import faults

pytestmark = pytest.mark.integration

SEED = sorted(SEEDS.glob("*.txt"))[0].read_bytes()


@pytest.mark.parametrize(
    ("fault", "reason", "timeout_s", "within_s"),
    [
        # `within_s` is a promptness bound, not a speed figure: about 10x what each takes on a quiet machine
        # (the 2 s limit plus a child's restart), so a loaded machine cannot fail it while a hang still does.
        (faults.hang, "longer than 2 s", 2.0, 20.0),
        # Measured in the parse process: its CPU time, which a pause does not advance — nor does a loaded
        # machine, where 2 s of CPU can take several times as long on the wall clock.
        (faults.spin, "more than 2 s of CPU time", 2.0, 30.0),
        # Generous limits where the fault is not a hang: a loaded machine starts the child slowly.
        (faults.crash, "died", 20.0, 25.0),
        (faults.hog, "the parse needs more than 512 MB of memory", 20.0, 25.0),
    ],
)
async def test_a_faulty_parse_fails_cleanly_and_the_next_document_parses(
    fault: Callable[[bytes, str | None], ParsedMeeting], reason: str, timeout_s: float, within_s: float
) -> None:
    pool = ParsePool(timeout_s=timeout_s, memory_mb=512, target=fault)
    try:
        started = time.monotonic()
        with pytest.raises(ParseFailed, match=reason):
            await pool.parse(SEED, "seed.txt")
        assert time.monotonic() - started < within_s
        # The same pool, with a healthy target, parses the next document in a fresh child.
        pool.target = faults.crash_on_marker
        pool.timeout_s = 30.0
        meeting = await pool.parse(SEED, "seed.txt")
        assert len(meeting.items) == 4
    finally:
        pool.close()


def _pdf_bomb(expanded_bytes: int) -> bytes:
    """A one-page PDF whose content stream is ~2 MB deflated and `expanded_bytes` inflated (spaces)."""
    deflate = zlib.compressobj(9)
    chunk = b" " * (16 * 1024 * 1024)
    stream = b"".join(deflate.compress(chunk) for _ in range(expanded_bytes // len(chunk))) + deflate.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


async def test_a_pdf_that_expands_beyond_the_memory_cap_fails_with_that_reason() -> None:
    """pdfium inflating 1 GiB under a 512 MB cap aborts the process (no MemoryError reaches Python): the
    worker still names the cause, not "a crash", and the next document parses."""
    pool = ParsePool(timeout_s=60.0, memory_mb=512)
    try:
        with pytest.raises(ParseFailed, match=r"the PDF's content expands beyond 512 MB"):
            await pool.parse(_pdf_bomb(1024 * 1024 * 1024), "bomb.pdf")
        meeting = await pool.parse(SEED, "seed.txt")
        assert len(meeting.items) == 4
    finally:
        pool.close()


async def test_closing_with_a_parse_in_flight_stops_the_child_promptly() -> None:
    """Shutdown cancels a handler mid-parse, then closes the pool: no wait for the parse, no child left."""
    import asyncio

    pool = ParsePool(timeout_s=60.0, memory_mb=512, target=faults.hang)
    task = asyncio.create_task(pool.parse(SEED, "seed.txt"))
    await asyncio.sleep(1.0)  # the request is with the child, which is now stuck
    process = pool._process
    assert process is not None and process.is_alive()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    started = time.monotonic()
    pool.close(grace_s=0.5)
    # A promptness bound (10x the 0.5 s grace), not a measurement: waiting for the hung parse would take 60 s.
    assert time.monotonic() - started < 5.0
    assert not process.is_alive()


async def test_the_default_target_is_the_real_parser() -> None:
    pool = ParsePool(timeout_s=10.0, memory_mb=1024)
    try:
        meeting = await pool.parse(SEED, "seed.txt")
    finally:
        pool.close()
    assert meeting.municipality == "Favrskov"


def test_large_documents_cross_the_pipe_under_uvloop() -> None:
    """uvloop's poller makes the pipe non-blocking; replies of ~100 KB must still arrive whole."""
    import uvloop

    from bench.corpus import generate_corpus

    docs = [d for d in generate_corpus(30, seed=5, pdf_share=0.2) if len(d.data) > 30_000][:8]
    assert docs

    async def run() -> list[int]:
        pool = ParsePool(timeout_s=60.0, memory_mb=1024)
        try:
            return [len((await pool.parse(d.data, d.name)).items) for d in docs]
        finally:
            pool.close()

    assert uvloop.run(run()) == [d.expected_items for d in docs]

    async def run_huge() -> int:
        pool = ParsePool(timeout_s=60.0, memory_mb=1024, target=faults.huge)
        try:
            meeting = await pool.parse(b"x", "x.txt")
        finally:
            pool.close()
        return len(meeting.items[0].sections[0].text)

    assert uvloop.run(run_huge()) == len("Sagsfremstilling. ") * 200_000

    async def run_big_requests() -> list[str]:
        pool = ParsePool(timeout_s=60.0, memory_mb=1024, target=faults.size_only)
        try:
            return [(await pool.parse(b"x" * 3_000_000, "big.pdf")).items[0].title for _ in range(3)]
        finally:
            pool.close()

    assert uvloop.run(run_big_requests()) == ["3000000"] * 3
