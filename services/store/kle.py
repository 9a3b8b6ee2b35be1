"""The KLE subject of a case number: the leading `NN.NN.NN` of SBSYS-style (KL-Emnesystematik) numbers.

SBSYS and systems like it number cases `<KLE emne>-<handlingsfacet>-<løbenr>-<år>`, with or without a dash
after the subject: `00.22.04-P35-4-18`, `15.20.00G01-1-20`. Other schemes (`EMN-2025-000502`, `21-013699`,
`12/27845`) carry no subject and get None; so does a date (`18.08.2025`) in a mangled case number.
"""

from __future__ import annotations

import re

_KLE = re.compile(r"\s*(\d{2}\.\d{2}\.\d{2})(?![\d.])")


def kle_of(case_number: str | None) -> str | None:
    """`NN.NN.NN` when the case number starts with a KLE subject, else None."""
    if not case_number:
        return None
    match = _KLE.match(case_number)
    return match.group(1) if match else None
