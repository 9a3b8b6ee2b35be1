"""The web page's texts in Danish (default) and English: one catalog, chosen per request.

`?lang=en` (or `da`) wins, then the browser's Accept-Language, then Danish.
"""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = ("da", "en")
DEFAULT = "da"

CATALOG: dict[str, dict[str, str]] = {
    "site_title": {"da": "Referater", "en": "Minutes"},
    "tagline": {
        "da": "Afgørelser fra danske kommuners og regioners udvalg",
        "en": "Decisions of Danish municipal and regional committees",
    },
    "skip_to_content": {"da": "Spring til indhold", "en": "Skip to content"},
    "other_language": {"da": "English", "en": "Dansk"},
    "other_language_code": {"da": "en", "en": "da"},
    "search": {"da": "Søg", "en": "Search"},
    "search_label": {"da": "Søg i afgørelser", "en": "Search decisions"},
    "search_hint": {
        "da": 'Ord finder også bøjninger (fleksjob → fleksjobbet); "en frase"; -udeluk',
        "en": 'Words also find their inflections (fleksjob → fleksjobbet); "a phrase"; -exclude',
    },
    "filters": {"da": "Afgræns", "en": "Filter"},
    "municipality": {"da": "Kommune eller region", "en": "Municipality or region"},
    "committee": {"da": "Udvalg", "en": "Committee"},
    "date_from": {"da": "Fra dato", "en": "From date"},
    "date_to": {"da": "Til dato", "en": "To date"},
    "outcome": {"da": "Udfald", "en": "Outcome"},
    "any_outcome": {"da": "Alle udfald", "en": "Any outcome"},
    "case_number": {"da": "Sagsnummer", "en": "Case number"},
    "reset": {"da": "Nulstil", "en": "Reset"},
    "results": {"da": "Afgørelser", "en": "Decisions"},
    "no_results": {"da": "Ingen afgørelser matcher.", "en": "No decisions match."},
    "result_count": {"da": "{n} afgørelser", "en": "{n} decisions"},
    "next_page": {"da": "Næste side", "en": "Next page"},
    "first_page": {"da": "Til første side", "en": "Back to the first page"},
    "new_decisions": {"da": "{n} nye afgørelser – vis dem", "en": "{n} new decisions – show them"},
    "meeting": {"da": "Møde", "en": "Meeting"},
    "meeting_of": {"da": "{committee}, {date}", "en": "{committee}, {date}"},
    "to_meeting": {"da": "Hele mødet", "en": "The whole meeting"},
    "case": {"da": "Sag", "en": "Case"},
    "case_title": {"da": "Sag {case}", "en": "Case {case}"},
    "case_intro": {
        "da": "Alle punkter med dette sagsnummer, ældste møde først.",
        "en": "Every item with this case number, oldest meeting first.",
    },
    "kle": {"da": "KLE-emne", "en": "KLE subject"},
    "item": {"da": "Punkt", "en": "Item"},
    "items": {"da": "Dagsordenspunkter", "en": "Agenda items"},
    "closed_item": {"da": "Lukket punkt", "en": "Closed item"},
    "decision": {"da": "Beslutning", "en": "Decision"},
    "no_decision": {"da": "Ingen beslutning i dette dokument.", "en": "No decision in this document."},
    "sections": {"da": "Sagsfremstilling", "en": "Sections"},
    "participants": {"da": "Deltagere", "en": "Participants"},
    "absent": {"da": "Fraværende", "en": "Absent"},
    "attachments": {"da": "Bilag", "en": "Attachments"},
    "history": {"da": "Tidligere beslutninger", "en": "Earlier decisions"},
    "case_path": {"da": "Sagens vej", "en": "The case's path"},
    "case_path_intro": {
        "da": "Hvert organ, der har behandlet sagen, ældste først, med dets beslutning.",
        "en": "Each body that treated the case, oldest first, with its decision.",
    },
    "case_path_cited": {"da": "citeret i en senere sag", "en": "cited by a later item"},
    "live_updates": {
        "da": "Nye afgørelser vises her, mens de træffes.",
        "en": "New decisions appear here as they are made.",
    },
    "live_new": {"da": "ny", "en": "new"},
    "live_revised": {"da": "rettet", "en": "revised"},
    "feed_link": {"da": "Atom-feed for denne søgning", "en": "Atom feed of this search"},
    "date": {"da": "Dato", "en": "Date"},
    "time": {"da": "Tidspunkt", "en": "Time"},
    "location": {"da": "Sted", "en": "Location"},
    "kind_minutes": {"da": "referat", "en": "minutes"},
    "kind_agenda": {"da": "dagsorden", "en": "agenda"},
    "source": {"da": "Kilde", "en": "Source"},
    "download_original": {"da": "Hent originalen", "en": "Download the original"},
    "original_name": {"da": "Filnavn", "en": "File name"},
    "pdf_page": {"da": "Side i PDF", "en": "PDF page"},
    "version": {"da": "Version", "en": "Version"},
    "versions": {"da": "Versioner af mødet", "en": "Versions of the meeting"},
    "current_version": {"da": "gældende version", "en": "current version"},
    "superseded_version": {"da": "erstattet af en nyere version", "en": "superseded by a newer version"},
    "received_at": {"da": "Modtaget", "en": "Received"},
    "stored_at": {"da": "Gemt", "en": "Stored"},
    "not_available": {"da": "ikke tilgængelig", "en": "not available"},
    "document_id": {"da": "Dokument-id (sha256)", "en": "Document id (sha256)"},
    "api_link": {"da": "API og dokumentation", "en": "API and documentation"},
    "error": {"da": "Fejl", "en": "Error"},
    "not_found": {"da": "Ikke fundet", "en": "Not found"},
    "bad_request": {"da": "Ugyldig forespørgsel", "en": "Bad request"},
    "back_to_search": {"da": "Tilbage til søgningen", "en": "Back to the search"},
    "outcome_approved": {"da": "Godkendt", "en": "Approved"},
    "outcome_recommended": {"da": "Anbefalet", "en": "Recommended"},
    "outcome_noted": {"da": "Taget til efterretning", "en": "Noted"},
    "outcome_discussed": {"da": "Drøftet", "en": "Discussed"},
    "outcome_rejected": {"da": "Afvist", "en": "Rejected"},
    "outcome_postponed": {"da": "Udsat", "en": "Postponed"},
    "outcome_other": {"da": "Andet", "en": "Other"},
}

MONTHS = {
    "da": [
        "januar",
        "februar",
        "marts",
        "april",
        "maj",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "december",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}


def pick_language(query_lang: str | None, accept_language: str | None) -> str:
    """The language of a request: `?lang=`, else the best of Accept-Language we have, else Danish."""
    if query_lang in LANGUAGES:
        return query_lang
    best, best_q = DEFAULT, -1.0
    for part in (accept_language or "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        code = tag.strip().lower().split("-")[0]
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if code in LANGUAGES and quality > best_q:
            best, best_q = code, quality
    return best


def translator(lang: str) -> Callable[..., str]:
    """`t(key, **values)`: the text of `key` in `lang` (a missing key shows itself, so it is noticed)."""

    def t(key: str, **values: object) -> str:
        text = CATALOG.get(key, {}).get(lang) or key
        return text.format(**values) if values else text

    return t
