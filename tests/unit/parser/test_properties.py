"""Property tests: no input crashes the parser (only DocumentError) or makes it hang."""

from __future__ import annotations

import contextlib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.parser.core import DocumentError, parse_document, parse_text
from shared.contracts.meeting import ParsedMeeting

SEEDS = sorted((Path(__file__).resolve().parents[2] / "fixtures" / "corpus" / "seeds").glob("*.txt"))
SEED_TEXTS = [p.read_text(encoding="utf-8") for p in SEEDS]
SEED_LINES = [line for text in SEED_TEXTS for line in text.splitlines()]

# Each example must finish well inside a second: catastrophic regex backtracking would not.
FAST = settings(deadline=1000, max_examples=60, suppress_health_check=[HealthCheck.too_slow])


def _parse_or_refuse(data: bytes) -> ParsedMeeting | None:
    try:
        return parse_document(data)
    except DocumentError as exc:
        reason = str(exc)
    assert reason, "every refusal must say why"
    return None


@FAST
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    _parse_or_refuse(data)


@FAST
@given(st.sampled_from(SEED_TEXTS), st.floats(min_value=0.0, max_value=1.0))
def test_truncated_documents(text: str, share: float) -> None:
    data = text.encode("utf-8")
    cut = data[: int(len(data) * share)]
    meeting = _parse_or_refuse(cut)
    if meeting is not None:
        numbers = [item.number for item in meeting.items]
        assert numbers == sorted(set(numbers))


@FAST
@given(st.lists(st.sampled_from(SEED_LINES), max_size=400), st.randoms(use_true_random=False))
def test_shuffled_and_duplicated_lines(lines: list[str], rnd) -> None:  # type: ignore[no-untyped-def]
    lines = lines + lines[: len(lines) // 3]
    rnd.shuffle(lines)
    _parse_or_refuse("\n".join(lines).encode("utf-8"))


@FAST
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=3000))
def test_random_text(text: str) -> None:
    with contextlib.suppress(DocumentError):
        parse_text(text)


@FAST
@given(st.sampled_from(["Punkt 1: ", "Beslutning ", "1. ", "Fraværende: ", "For stemte: ", "Ã,", "Sagsnr.: "]),
       st.integers(min_value=1, max_value=5000))
def test_long_pathological_lines(prefix: str, size: int) -> None:
    text = "REFERAT Byrådet d. 01-02-2022\n" + prefix + ("a " * size) + "\n" + prefix + ("1." * size)
    with contextlib.suppress(DocumentError):
        parse_text(text)
