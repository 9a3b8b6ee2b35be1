"""A synthetic minutes text of a chosen size (tens of MB): many items, each with a long case presentation.

Made up from a small vocabulary (no real meeting). The last item's section begins with a word found nowhere
else (one hit, ~48 MB into the document) and ends with another, past any sensible indexing limit.
"""

from __future__ import annotations

import random

RARE_WORD = "kvartsgrusgravning"
BEYOND_LIMIT_WORD = "grusgravsafslutning"
_VOCABULARY = (
    "udvalget forvaltningen kommunen borgerne indsatsen budgettet området projektet planen aftalen "
    "vurderer beskriver følger undersøger drøfter godkender forventer styrker samler afdækker "
    "løbende samlet politisk økonomiske relevante seneste yderligere eksisterende positiv videre "
    "skole dagtilbud lokalplan fleksjob ledighed vej cykelsti idrætshal bibliotek ældrepleje"
)
_WORDS = tuple(_VOCABULARY.split())


def _paragraph(rng: random.Random) -> str:
    sentences = []
    for _ in range(rng.randint(3, 6)):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(8, 16))]
        sentences.append(" ".join(words).capitalize() + ".")
    return " ".join(sentences)


def big_minutes(target_bytes: int, items: int = 40, seed: int = 0) -> bytes:
    """A plain-text referat of about `target_bytes` (UTF-8), `items` decided items of equal length."""
    rng = random.Random(seed)
    # One block of paragraphs reused with a different order per item: generating 49 MB word by word is slow.
    block = [_paragraph(rng) for _ in range(400)]
    head = [
        "REFERAT Teknik- og Miljøudvalget d. 03-03-2025",
        "Mødedato Mandag d. 3. marts 2025 kl. 16:00",
        "Mødested Mødelokale 2, Rådhuset",
        "Indholdsfortegnelse",
        *(f"Sag nummer {n} om planen.....\t{n + 2}" for n in range(1, items + 1)),
    ]
    per_item = max(1, (target_bytes - len("\n\n".join(head).encode())) // items)
    parts = ["\n\n".join(head)]
    for n in range(1, items + 1):
        body: list[str] = []
        size = 0
        while size < per_item - 400:
            para = block[rng.randrange(len(block))]
            body.append(para)
            size += len(para.encode()) + 2
        if n == items:
            body.insert(1, f"Sagen omhandler også {RARE_WORD} ved vejen.")
            body.append(f"Til sidst nævnes {BEYOND_LIMIT_WORD} i sagen.")
        parts.append(
            "\n\n".join([
                f"Punkt {n}: Sag nummer {n} om planen",
                f"25/{1000 + n}",
                "Sagsfremstilling",
                *body,
                "Indstilling",
                "At udvalget godkender planen.",
                "Beslutning Teknik- og Miljøudvalget den 03-03-2025",
                "Godkendt.",
            ])
        )
    return ("\n\n".join(parts) + "\n").encode()
