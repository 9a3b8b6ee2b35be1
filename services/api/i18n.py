"""The web page's texts in Danish (default) and English: one catalog, chosen per request.

`?lang=en` (or `da`) wins, then the browser's Accept-Language, then Danish.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple


class Text(NamedTuple):
    """One text in every language: built without one of them it is a TypeError at import, never a gap."""

    da: str
    en: str

    def of(self, lang: str) -> str:
        """The text in `lang` (one of LANGUAGES)."""
        return self[LANGUAGES.index(lang)]


# The languages are the fields of Text, so the catalog and this list cannot disagree.
LANGUAGES: tuple[str, ...] = Text._fields
DEFAULT = "da"

CATALOG: dict[str, Text] = {
    "site_title": Text(da="Referater", en="Minutes"),
    "tagline": Text(
        da="Afgørelser fra danske kommuners og regioners udvalg",
        en="Decisions of Danish municipal and regional committees",
    ),
    "skip_to_content": Text(da="Spring til indhold", en="Skip to content"),
    "other_language": Text(da="English", en="Dansk"),
    "other_language_code": Text(da="en", en="da"),
    "search": Text(da="Søg", en="Search"),
    "search_label": Text(da="Søg i afgørelser", en="Search decisions"),
    "search_hint": Text(
        da='Ord finder også bøjninger (fleksjob → fleksjobbet); "en frase"; -udeluk',
        en='Words also find their inflections (fleksjob → fleksjobbet); "a phrase"; -exclude',
    ),
    "filters": Text(da="Afgræns", en="Filter"),
    "municipality": Text(da="Kommune eller region", en="Municipality or region"),
    "committee": Text(da="Udvalg", en="Committee"),
    "date_from": Text(da="Fra dato", en="From date"),
    "date_to": Text(da="Til dato", en="To date"),
    "outcome": Text(da="Udfald", en="Outcome"),
    "any_outcome": Text(da="Alle udfald", en="Any outcome"),
    "case_number": Text(da="Sagsnummer", en="Case number"),
    "reset": Text(da="Nulstil", en="Reset"),
    "results": Text(da="Afgørelser", en="Decisions"),
    "no_results": Text(da="Ingen afgørelser matcher.", en="No decisions match."),
    "result_count": Text(da="{n} afgørelser", en="{n} decisions"),
    "result_count_one": Text(da="1 afgørelse", en="1 decision"),
    "municipality_hint": Text(
        da="Vælg fra listen eller skriv fx »Aarhus Kommune«", en="Pick from the list or type e.g. “Aarhus Kommune”"
    ),
    "no_such_place": Text(
        da="Ingen kommune eller region hedder »{name}«.", en="No municipality or region is called “{name}”."
    ),
    "did_you_mean": Text(da="Mente du", en="Did you mean"),
    "date_hint": Text(
        da="Datoer: vælg i kalenderen eller skriv dag.måned.år, fx 31.08.2025.",
        en="Dates: pick from the calendar or type day.month.year, e.g. 31.08.2025.",
    ),
    "empty_title": Text(da="Ingen referater endnu", en="No minutes yet"),
    "empty_drop": Text(
        da="Læg referater (PDF, Word, HTML eller XML) i mappen inbox/ – ./dev up læser dem inden for sekunder:",
        en="Drop minutes (PDF, Word, HTML or XML) into the inbox/ folder – ./dev up reads them within seconds:",
    ),
    "empty_backfill": Text(da="Eller indlæs et arkiv på én gang:", en="Or load an archive in one go:"),
    "empty_sources": Text(
        da="Eller hent en kommunes møder fra dens dagsordensportal:",
        en="Or fetch a municipality's meetings from its agenda portal:",
    ),
    "empty_more": Text(da="Mere i README.md og docs/sources.md.", en="More in README.md and docs/sources.md."),
    "overview": Text(da="Overblik", en="Overview"),
    "overview_of": Text(da="Overblik: {subject}", en="Overview: {subject}"),
    "overview_link": Text(da="Overblik over {subject}", en="Overview of {subject}"),
    "overview_intro": Text(
        da="{decisions} afgørelser på {meetings} møder.", en="{decisions} decisions at {meetings} meetings."
    ),
    "overview_decisions": Text(da="Se afgørelserne", en="See the decisions"),
    "chart_months_title": Text(da="Afgørelser pr. måned, {subject}", en="Decisions per month, {subject}"),
    "chart_months_desc": Text(
        da="Søjlediagram: {n} afgørelser fordelt på {months} måneder efter mødedato. Tallene står i tabellen.",
        en="Bar chart: {n} decisions over {months} months by meeting date. The figures are in the table.",
    ),
    "chart_month_bar": Text(da="{month}: {n} afgørelser", en="{month}: {n} decisions"),
    "chart_outcomes_title": Text(da="Udfald, {subject}", en="Outcomes, {subject}"),
    "chart_outcomes_desc": Text(
        da="Andel af {n} afgørelser pr. udfald. Tallene står i tabellen.",
        en="Share of {n} decisions per outcome. The figures are in the table.",
    ),
    "chart_share_bar": Text(da="{outcome}: {n} afgørelser ({share} %)", en="{outcome}: {n} decisions ({share} %)"),
    "chart_table": Text(da="Tallene som tabel", en="The figures as a table"),
    "month": Text(da="Måned", en="Month"),
    "count": Text(da="Antal", en="Count"),
    "share": Text(da="Andel", en="Share"),
    "undated_decisions": Text(
        da="{n} afgørelser fra møder uden dato er ikke med.", en="{n} decisions of undated meetings are not shown."
    ),
    "decisions_per_month": Text(da="Afgørelser pr. måned", en="Decisions per month"),
    "outcome_shares": Text(da="Udfald", en="Outcomes"),
    "busiest_cases": Text(da="Sager med flest afgørelser", en="The busiest cases"),
    "committees": Text(da="Udvalg", en="Committees"),
    "meetings": Text(da="Møder", en="Meetings"),
    "recent_meetings": Text(da="Seneste møder", en="Latest meetings"),
    "meeting_count": Text(da="{n} møder", en="{n} meetings"),
    "meeting_count_one": Text(da="1 møde", en="1 meeting"),
    "decision_count": Text(da="{n} afgørelser", en="{n} decisions"),
    "decision_count_one": Text(da="1 afgørelse", en="1 decision"),
    "no_overview": Text(da="Ingen afgørelser for dette valg.", en="No decisions for this choice."),
    "procedural": Text(da="Formalia", en="Procedural"),
    "contents": Text(da="Indhold", en="Contents"),
    "next_page": Text(da="Næste side", en="Next page"),
    "first_page": Text(da="Til første side", en="Back to the first page"),
    "new_decisions": Text(da="{n} nye afgørelser – vis dem", en="{n} new decisions – show them"),
    "meeting": Text(da="Møde", en="Meeting"),
    "meeting_of": Text(da="{committee}, {date}", en="{committee}, {date}"),
    "to_meeting": Text(da="Hele mødet", en="The whole meeting"),
    "case": Text(da="Sag", en="Case"),
    "case_title": Text(da="Sag {case}", en="Case {case}"),
    "case_intro": Text(
        da="Alle punkter med dette sagsnummer, ældste møde først.",
        en="Every item with this case number, oldest meeting first.",
    ),
    "kle": Text(da="KLE-emne", en="KLE subject"),
    "item": Text(da="Punkt", en="Item"),
    "items": Text(da="Dagsordenspunkter", en="Agenda items"),
    "closed_item": Text(da="Lukket punkt", en="Closed item"),
    "decision": Text(da="Beslutning", en="Decision"),
    "no_decision": Text(da="Ingen beslutning i dette dokument.", en="No decision in this document."),
    "sections": Text(da="Sagsfremstilling", en="Sections"),
    "participants": Text(da="Deltagere", en="Participants"),
    "absent": Text(da="Fraværende", en="Absent"),
    "attachments": Text(da="Bilag", en="Attachments"),
    "history": Text(da="Tidligere beslutninger", en="Earlier decisions"),
    "votes": Text(da="Afstemning", en="Vote"),
    "votes_in_favour": Text(da="For", en="For"),
    "votes_against": Text(da="Imod", en="Against"),
    "votes_abstaining": Text(da="Undlod at stemme", en="Abstained"),
    "votes_reserved": Text(da="Tog forbehold", en="Reserved their position"),
    "votes_side": Text(da="Stemte", en="Position"),
    "votes_count": Text(da="Stemmer", en="Votes"),
    "votes_names": Text(da="Hvem", en="Who"),
    "votes_hint": Text(
        da="Som referatet skriver det: navne eller partibogstaver; antal kun, hvor referatet angiver det.",
        en="As the minutes print it: names or party letters; counts only where the minutes print them.",
    ),
    "revised_mark": Text(da="rettet", en="corrected"),
    "revised_intro": Text(
        da="Beslutningen er rettet i forhold til en tidligere version af referatet.",
        en="The decision was corrected from an earlier version of the minutes.",
    ),
    "revised_changes": Text(da="Ændringer", en="Changes"),
    "revised_previous": Text(da="Tidligere tekst", en="Earlier text"),
    "revised_previous_version": Text(da="Den tidligere version", en="The earlier version"),
    "revised_removed": Text(da="fjernet", en="removed"),
    "revised_added": Text(da="tilføjet", en="added"),
    "case_path": Text(da="Sagens vej", en="The case's path"),
    "case_path_intro": Text(
        da="Hvert organ, der har behandlet sagen, ældste først, med dets beslutning.",
        en="Each body that treated the case, oldest first, with its decision.",
    ),
    "case_path_cited": Text(da="citeret i en senere sag", en="cited by a later item"),
    "live_updates": Text(
        da="Nye afgørelser vises her, mens de træffes.", en="New decisions appear here as they are made."
    ),
    "live_new": Text(da="ny", en="new"),
    "live_revised": Text(da="rettet", en="revised"),
    "feed_link": Text(da="Atom-feed for denne søgning", en="Atom feed of this search"),
    "date": Text(da="Dato", en="Date"),
    "time": Text(da="Tidspunkt", en="Time"),
    "location": Text(da="Sted", en="Location"),
    "kind_minutes": Text(da="referat", en="minutes"),
    "kind_agenda": Text(da="dagsorden", en="agenda"),
    "source": Text(da="Kilde", en="Source"),
    "parser_warnings": Text(da="Forbehold ved indlæsningen", en="Parser warnings"),
    "parser_warnings_hint": Text(
        da="Referatet er læst automatisk, og læseren var i tvivl om følgende (beskeder på engelsk):",
        en="The minutes were read automatically, and the parser doubted the following:",
    ),
    "download_original": Text(da="Hent originalen", en="Download the original"),
    "on_the_portal": Text(da="Mødet på dagsordensportalen", en="The meeting on the agenda portal"),
    "original_name": Text(da="Filnavn", en="File name"),
    "pdf_page": Text(da="Side i PDF", en="PDF page"),
    "open_pdf_at_page": Text(da="Åbn PDF'en på side {page}", en="Open the PDF at page {page}"),
    "open_pdf": Text(da="Åbn PDF'en", en="Open the PDF"),
    "version": Text(da="Version", en="Version"),
    "versions": Text(da="Versioner af mødet", en="Versions of the meeting"),
    "current_version": Text(da="gældende version", en="current version"),
    "superseded_version": Text(da="erstattet af en nyere version", en="superseded by a newer version"),
    "received_at": Text(da="Modtaget", en="Received"),
    "stored_at": Text(da="Gemt", en="Stored"),
    "not_available": Text(da="ikke tilgængelig", en="not available"),
    "document_id": Text(da="Dokument-id (sha256)", en="Document id (sha256)"),
    "api_link": Text(da="API og dokumentation", en="API and documentation"),
    "rejected_link": Text(da="Afviste dokumenter", en="Refused documents"),
    "rejected_title": Text(da="Afviste dokumenter", en="Refused documents"),
    "rejected_hint": Text(
        da="Dokumenter, som ikke kunne læses som et referat eller en dagsorden, med årsagen (på engelsk). "
        "Et layout, ingen regel kender, står som »layout not recognised«: intet møde er gemt for det.",
        en="Documents that could not be read as minutes or an agenda, with the reason. A layout no rule "
        "knows reads `layout not recognised`: no meeting was stored for it.",
    ),
    "rejected_file": Text(da="Fil", en="File"),
    "rejected_when": Text(da="Afvist", en="Refused"),
    "rejected_reason": Text(da="Årsag", en="Reason"),
    "rejected_none": Text(da="Ingen dokumenter er afvist.", en="No document has been refused."),
    "error": Text(da="Fejl", en="Error"),
    "not_found": Text(da="Ikke fundet", en="Not found"),
    "bad_request": Text(da="Ugyldig forespørgsel", en="Bad request"),
    "back_to_search": Text(da="Tilbage til søgningen", en="Back to the search"),
    "outcome_approved": Text(da="Godkendt", en="Approved"),
    "outcome_recommended": Text(da="Anbefalet", en="Recommended"),
    "outcome_noted": Text(da="Taget til efterretning", en="Noted"),
    "outcome_discussed": Text(da="Drøftet", en="Discussed"),
    "outcome_rejected": Text(da="Afvist", en="Rejected"),
    "outcome_postponed": Text(da="Udsat", en="Postponed"),
    "outcome_other": Text(da="Andet", en="Other"),
}

MONTHS: tuple[Text, ...] = (
    Text(da="januar", en="January"),
    Text(da="februar", en="February"),
    Text(da="marts", en="March"),
    Text(da="april", en="April"),
    Text(da="maj", en="May"),
    Text(da="juni", en="June"),
    Text(da="juli", en="July"),
    Text(da="august", en="August"),
    Text(da="september", en="September"),
    Text(da="oktober", en="October"),
    Text(da="november", en="November"),
    Text(da="december", en="December"),
)


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
    known = lang in LANGUAGES

    def t(key: str, **values: object) -> str:
        entry = CATALOG.get(key)
        text = (entry.of(lang) if entry is not None and known else "") or key
        return text.format(**values) if values else text

    return t
