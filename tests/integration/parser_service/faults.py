"""Faulty parse functions run in the real parse child process (module level, so they pickle)."""

from __future__ import annotations

import os
import signal
import time

from shared.contracts.meeting import ParsedMeeting


def hang(data: bytes, filename: str | None) -> ParsedMeeting:
    """Never returns, like a parse stuck in a pathological document."""
    time.sleep(3600)
    raise AssertionError("unreachable")


def crash(data: bytes, filename: str | None) -> ParsedMeeting:
    """Kills its own process, like a segfault in a native PDF library."""
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


def hog(data: bytes, filename: str | None) -> ParsedMeeting:
    """Allocates far past the memory cap."""
    blocks = [bytearray(64 * 1024 * 1024) for _ in range(64)]
    raise AssertionError(f"allocated {len(blocks)} blocks under the cap")


def crash_on_marker(data: bytes, filename: str | None) -> ParsedMeeting:
    """Parses normally unless the document contains POISON, then dies."""
    if b"POISON" in data:
        os.kill(os.getpid(), signal.SIGKILL)
    from services.parser.core import parse_document

    return parse_document(data, filename)


def huge(data: bytes, filename: str | None) -> ParsedMeeting:
    """A valid meeting whose JSON (~4 MB) is far larger than a pipe's buffer, so it arrives in pieces."""
    from shared.contracts.meeting import AgendaItem, Section

    text = "Sagsfremstilling. " * 200_000
    return ParsedMeeting(items=(AgendaItem(number=1, title="Stor sag", sections=(Section(name="Sag", text=text),)),))


def size_only(data: bytes, filename: str | None) -> ParsedMeeting:
    """Answers with the size of what arrived: checks that big requests cross the pipe whole."""
    from shared.contracts.meeting import AgendaItem

    return ParsedMeeting(items=(AgendaItem(number=1, title=str(len(data))),))


def raise_arbitrary(data: bytes, filename: str | None) -> ParsedMeeting:
    """A bug in the core: an exception that is neither a DocumentError nor a crash."""
    raise KeyError("an unexpected key in the parser core")


def slow_then_parse(data: bytes, filename: str | None) -> ParsedMeeting:
    """Spends ~1 s of CPU time, then parses: long enough to pause the worker mid-parse."""
    from services.parser.core import parse_document

    deadline = time.process_time() + 1.0
    while time.process_time() < deadline:
        pass
    return parse_document(data, filename)


def spin(data: bytes, filename: str | None) -> ParsedMeeting:
    """Computes forever, like a pathological regular expression."""
    while True:
        pass
