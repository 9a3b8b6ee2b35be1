"""The outcome vocabulary of a decision, apart from the pydantic contracts so that the `minutes` command can
offer `--outcome` without importing pydantic (its start-up cost is paid by every command, even `--help`)."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """What the committee did with an item."""

    APPROVED = "approved"  # Godkendt, Tiltrådt, Vedtaget, Indstillingen godkendt
    RECOMMENDED = "recommended"  # sent on to a higher body: Anbefales, Indstilles godkendt
    NOTED = "noted"  # Taget til efterretning, Til efterretning
    DISCUSSED = "discussed"  # Drøftet
    REJECTED = "rejected"  # Ikke godkendt, Forkastet
    POSTPONED = "postponed"  # Udsat, Sagen udsættes
    OTHER = "other"
