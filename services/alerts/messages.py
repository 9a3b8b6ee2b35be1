"""What a person reads about a decision: notification titles and bodies, digests and Atom entries, in Danish
(the default) or English, each naming the municipality, the committee and the outcome, with a link to the
decision on the web page (`Settings.page_url`: MINUTES_PUBLIC_URL).

Pure functions over the public event; the words come from one catalog in both languages (built from
`services.api.i18n.Text`, so a text missing a language is an error at import, never a gap), and the outcome
labels are the web page's own.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.api.i18n import CATALOG, DEFAULT, LANGUAGES, MONTHS, Text
from services.readmodel.filter import Event
from shared.contracts.events import DecisionRevised

__all__ = ["DEFAULT", "LANGUAGES", "decision_url", "digest_message", "entry_content", "entry_title", "notification"]

TEXTS: dict[str, Text] = {
    "new": Text(da="Ny afgørelse", en="New decision"),
    "revised": Text(da="Rettet afgørelse", en="Revised decision"),
    "revised_tag": Text(da="rettet", en="revised"),
    "municipality": Text(da="{name} Kommune", en="{name} Municipality"),
    "meeting": Text(da="Møde", en="Meeting"),
    "item": Text(da="Punkt", en="Item"),
    "outcome": Text(da="Udfald", en="Outcome"),
    "case": Text(da="Sagsnummer", en="Case"),
    "previously": Text(da="Tidligere ({outcome})", en="Previously ({outcome})"),
    "open": Text(da="Se afgørelsen", en="See the decision"),
    "portal": Text(da="Mødet på dagsordensportalen", en="The meeting on the agenda portal"),
    "attachments": Text(da="Bilag på dagsordensportalen", en="Attachments on the agenda portal"),
    "digest_title": Text(da="{n} nye afgørelser ({period})", en="{n} new decisions ({period} digest)"),
    "digest_title_one": Text(da="1 ny afgørelse ({period})", en="1 new decision ({period} digest)"),
    "hourly": Text(da="seneste time", en="hourly"),
    "daily": Text(da="seneste døgn", en="daily"),
}


def _lang(lang: str) -> str:
    """`lang` when it is one of LANGUAGES, else the default: a message is never lost to an unknown language."""
    return lang if lang in LANGUAGES else DEFAULT


def _t(key: str, lang: str, **values: object) -> str:
    text = TEXTS[key].of(_lang(lang))
    return text.format(**values) if values else text


def outcome_label(event: Event, lang: str) -> str:
    """The outcome as the web page shows it (Godkendt, Taget til efterretning, …)."""
    return CATALOG[f"outcome_{event.outcome.value}"].of(_lang(lang))


def municipality_name(name: str | None, lang: str) -> str | None:
    """"Greve" as "Greve Kommune" (or "Greve Municipality"); a name that already says what it is (a region,
    "… Kommune") as it is."""
    if not name:
        return None
    lowered = name.lower()
    if lowered.startswith("region") or lowered.endswith(("kommune", "municipality", "regionskommune")):
        return name
    return _t("municipality", lang, name=name)


def date_text(event: Event, lang: str) -> str | None:
    """The meeting's date as a person writes it: "5. maj 2026" / "5 May 2026"."""
    day = event.meeting_date
    if day is None:
        return None
    month = MONTHS[day.month - 1].of(_lang(lang))
    return f"{day.day}. {month} {day.year}" if lang == "da" else f"{day.day} {month} {day.year}"


def decision_url(page_url: str, event: Event) -> str:
    """The decision on its meeting page (the item's anchor), under the page's public address."""
    base = page_url if page_url.endswith("/") else page_url + "/"
    position = event.item_id.rsplit(":", 1)[-1]
    return f"{base}meetings/{event.document_id}#item-{position}"


_SIDES = ("in_favour", "against", "abstaining", "reserved")


def vote_lines(event: Event, lang: str = DEFAULT) -> list[str]:
    """Who voted how and who was absent, one line per side as the minutes print it (names or party letters,
    the count where printed): what a reader of the decision asks next. Empty when no vote is printed."""
    lang = _lang(lang)
    lines = []
    if event.votes is not None:
        for side in _SIDES:
            names = getattr(event.votes, side)
            number = getattr(event.votes, f"{side}_count")
            if names or number is not None:
                counted = f" ({number})" if number is not None else ""
                lines.append(f"{CATALOG[f'votes_{side}'].of(lang)}{counted}: {', '.join(names) or '–'}")
    if event.absent:
        lines.append(f"{CATALOG['absent'].of(lang)}: {', '.join(event.absent)}")
    return ["", *lines] if lines else []


def _previous_lines(event: Event, lang: str) -> list[str]:
    """For a revision, what the decision was before (its outcome and text); nothing for a new decision."""
    if not isinstance(event, DecisionRevised):
        return []
    previously = CATALOG[f"outcome_{event.previous_outcome.value}"].of(_lang(lang))
    return ["", _t("previously", lang, outcome=previously) + ":", event.previous_text]


def _where(event: Event, lang: str) -> str:
    return " · ".join(p for p in (municipality_name(event.municipality, lang), event.committee) if p)


def _revised(event: Event) -> bool:
    return isinstance(event, DecisionRevised)


def notification(event: Event, page_url: str, lang: str = DEFAULT) -> tuple[str, str]:
    """Title and body of a message to a person about one decision."""
    where = _where(event, lang)
    head = f"{event.item_number}. {event.item_title}"
    title = f"{where}: {head}" if where else head
    lines = [f"{_t('revised' if _revised(event) else 'new', lang)}: {outcome_label(event, lang)}"]
    lines += [p for p in (municipality_name(event.municipality, lang), event.committee) if p]
    when = date_text(event, lang)
    if when:
        lines.append(f"{_t('meeting', lang)}: {when}")
    lines.append(f"{_t('item', lang)} {head}")
    if event.case_number:
        lines.append(f"{_t('case', lang)}: {event.case_number}")
    lines += ["", event.decision_text]
    lines += vote_lines(event, lang)
    lines += _previous_lines(event, lang)
    lines += ["", f"{_t('open', lang)}: {decision_url(page_url, event)}"]
    return title, "\n".join(lines)


def digest_message(events: Sequence[Event], period: str, page_url: str, lang: str = DEFAULT) -> tuple[str, str]:
    """Title and body of one summary of several decisions."""
    when = _t(period, lang) if period in TEXTS else period
    key = "digest_title_one" if len(events) == 1 else "digest_title"
    title = _t(key, lang, n=len(events), period=when)
    parts = []
    for e in events:
        where = _where(e, lang)
        head = f"{where}: {e.item_number}. {e.item_title}" if where else f"{e.item_number}. {e.item_title}"
        text = " ".join(e.decision_text.split())
        tag = f" ({_t('revised_tag', lang)})" if _revised(e) else ""
        parts.append(
            f"• {head}\n  {outcome_label(e, lang)}{tag}: {text[:300]}{'…' if len(text) > 300 else ''}\n"
            f"  {decision_url(page_url, e)}"
        )
    return title, "\n\n".join(parts)


def entry_title(event: Event, lang: str = DEFAULT) -> str:
    """An Atom entry's title: where, the item and its outcome."""
    where = _where(event, lang)
    head = f"{event.item_number}. {event.item_title} — {outcome_label(event, lang)}"
    title = f"{where}: {head}" if where else head
    return f"[{_t('revised_tag', lang)}] {title}" if _revised(event) else title


def entry_content(event: Event, lang: str = DEFAULT) -> str:
    """An Atom entry's text: the outcome, meeting, case, the decision (and what it replaced), portal links."""
    lines = [f"{_t('outcome', lang)}: {outcome_label(event, lang)}"]
    lines += [p for p in (municipality_name(event.municipality, lang), event.committee) if p]
    when = date_text(event, lang)
    if when:
        lines.append(f"{_t('meeting', lang)}: {when}")
    if event.case_number:
        lines.append(f"{_t('case', lang)}: {event.case_number}")
    lines += ["", event.decision_text]
    lines += vote_lines(event, lang)
    lines += _previous_lines(event, lang)
    if event.source_url:
        # In the text, not as a second <link>: feedgen drops `rel`, and a bare link reads as "alternate".
        lines += ["", f"{_t('portal', lang)}: {event.source_url}"]
    if event.attachment_links:
        lines += ["", f"{_t('attachments', lang)}:"]
        lines += [f"- {link.name}: {link.url}" for link in event.attachment_links]
    return "\n".join(lines)
