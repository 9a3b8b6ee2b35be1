"""Synthetic Danish minutes in the seeds' layouts (FirstAgenda family), deterministic by seed."""

from __future__ import annotations

import csv
import datetime as dt
import random
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

MUNICIPALITIES_CSV = Path("/work/shared/corpus/municipalities.csv")
# A fallback so the generator works where the shared corpus folder is absent (CI, another machine).
_FALLBACK_MUNICIPALITIES = (
    "Favrskov", "Høje-Taastrup", "Frederiksberg", "Vejle", "Lemvig", "Aarhus", "Odense", "Aalborg",
    "Herning", "Silkeborg", "Roskilde", "Køge", "Horsens", "Randers", "Viborg", "Holbæk", "Næstved",
)


class GeneratedDoc(NamedTuple):
    """One generated document and what a correct parser must find in it."""

    name: str
    data: bytes
    expected_decisions: int
    expected_items: int


MONTHS = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
          "november", "december")
WEEKDAYS = ("Mandag", "Tirsdag", "Onsdag", "Torsdag", "Fredag", "Lørdag", "Søndag")
COMMITTEES = (
    ("Arbejdsmarkedsudvalget", "AU"), ("Økonomiudvalget", "ØK"), ("Børne- og Ungeudvalget", "BU"),
    ("Teknik- og Miljøudvalget", "TM"), ("Social- og Sundhedsudvalget", "SS"), ("Kultur- og Fritidsudvalget", "KF"),
    ("Plan- og Boligudvalget", "PB"), ("Klima- og Miljøudvalget", "KM"), ("Beskæftigelsesudvalget", "BE"),
    ("Byrådet", "BY"), ("Ældre- og Sundhedsudvalget", "ÆS"), ("Arbejdsmarkeds- og Integrationsudvalget", "AI"),
)
DIRECTORS = ("Direktøren for Job og Økonomi", "Direktøren for Social/Sundhed og Arbejdsmarked",
             "Økonomi- og arbejdsmarkedsdirektøren", "Direktøren for Teknik og Miljø", "Børne- og ungedirektøren")
TOPICS = (
    "budgetopfølgning pr. 30. juni", "statistik på beskæftigelsesområdet", "ny beskæftigelsespolitik",
    "indsatsen for unge ledige", "kvalitet i sagsbehandlingen", "fokusrevision af ressourceforløb",
    "trafiksikkerhedsplan", "renovering af idrætshallen", "lokalplan for boligområde ved åen",
    "takster for dagtilbud", "klimahandleplan", "puljen til grønne initiativer", "skolernes ressourcetildeling",
    "ældreplejens bemanding", "integrationsindsatsen", "ændring af kommunens styrelsesvedtægt",
    "anlægsbevilling til cykelsti", "strategi for borgerinddragelse", "kontrakt om rengøring",
    "tilsyn med plejecentre", "digitaliseringsstrategi", "forebyggelse af ensomhed", "vintertjenesten",
)
TITLE_FORMS = ("Orientering om {t}", "Godkendelse af {t}", "Status på {t}", "Opfølgning på {t}",
               "Beslutning om {t}", "Høring om {t}", "Evaluering af {t}", "{T}")
FIXED_TITLES = ("Godkendelse af dagsorden", "Meddelelser", "Orienteringspunkt", "Eventuelt",
                "Digitalt underskriftsark")
# (text, parser outcome) as committees write them; the outcome is documented, the count is what we check.
DECISIONS = (
    ("Godkendt.", "approved"), ("Indstillingen godkendt.", "approved"), ("Tiltrådt.", "approved"),
    ("Vedtaget.", "approved"), ("Godkendt, idet administrationen kommer med et bud på den videre proces.",
                                "approved"),
    ("Anbefales.", "recommended"), ("Indstilles godkendt.", "recommended"),
    ("Indstilles til byrådets godkendelse.", "recommended"), ("Anbefales over for Byrådet.", "recommended"),
    ("Taget til efterretning.", "noted"), ("Til efterretning.", "noted"),
    ("Orienteringen blev taget til efterretning.", "noted"), ("Drøftet.", "discussed"),
    ("Sagen blev drøftet.", "discussed"), ("Udsat.", "postponed"), ("Sagen udsættes til næste møde.", "postponed"),
    ("Ikke godkendt.", "rejected"), ("Forkastet.", "rejected"),
)
SUBJECTS = ("Forvaltningen", "Administrationen", "Jobcentret", "Udvalget", "Afdelingen", "Centeret",
            "Sekretariatet", "Styregruppen", "Projektgruppen")
VERBS = ("har gennemgået", "vurderer", "har udarbejdet", "følger løbende", "har drøftet", "præsenterer",
         "har undersøgt", "beskriver", "har afdækket", "har samlet")
OBJECTS = ("udviklingen i antallet af borgere på ydelse", "de økonomiske konsekvenser af forslaget",
           "erfaringerne fra de første måneder", "mulighederne for at styrke samarbejdet med virksomhederne",
           "behovet for yderligere tiltag på området", "tidsplanen for det videre arbejde",
           "resultaterne af den seneste måling", "høringssvarene fra de berørte parter",
           "kvaliteten af sagsbehandlingen", "de forventede udgifter i budgetperioden",
           "kommunens forpligtelser efter lovgivningen", "borgernes oplevelse af indsatsen")
TAILS = ("og forventer en positiv udvikling.", "med henblik på en samlet vurdering.",
         "og vil følge op i løbet af året.", "i tæt dialog med de relevante parter.",
         "inden for den eksisterende budgetramme.", "som beskrevet i vedlagte bilag.",
         "og lægger op til en politisk drøftelse.", "på baggrund af de seneste tal.")
ABSENTEES = ("Søren Videbæk Jensen", "Anne Mette Bak", "Kurt Scheelsbeck", "Melis Aydin", "Peter Faarbæk",
             "Lene Holm", "Jens Kristian Møller", "Birgitte Lund")
PARTIES = ("A", "B", "C", "F", "I", "O", "V", "Ø", "Å")


def municipalities(path: Path = MUNICIPALITIES_CSV) -> tuple[str, ...]:
    """Names of the 98 municipalities (the shared list, else a short built-in one)."""
    try:
        with path.open(encoding="utf-8") as fh:
            return tuple(row["name"].strip() for row in csv.DictReader(fh))
    except OSError:
        return _FALLBACK_MUNICIPALITIES


class _Ctx(NamedTuple):
    rng: random.Random
    muni: str
    committee: str
    short: str
    date: dt.date
    time: str
    serial: str


def _paragraph(ctx: _Ctx, sentences: tuple[int, int] = (2, 5)) -> str:
    rng = ctx.rng
    out = []
    for _ in range(rng.randint(*sentences)):
        out.append(f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(TAILS)}")
    if rng.random() < 0.3:
        out.append(f"Det gælder for hele {ctx.muni} Kommune, hvor indsatsen er forankret i {ctx.committee}.")
    return " ".join(out)


def _paragraphs(ctx: _Ctx, lo: int, hi: int) -> list[str]:
    return [_paragraph(ctx) for _ in range(ctx.rng.randint(lo, hi))]


def _long_date(d: dt.date) -> str:
    return f"{d.day}. {MONTHS[d.month - 1]} {d.year}"


def _decision_block(ctx: _Ctx, recs: int) -> list[str]:
    """The decision text: a phrase, sometimes per recommendation, votes or an absentee sentence after it."""
    rng = ctx.rng
    text, _outcome = rng.choice(DECISIONS)
    lines = [f"Punkt {i + 1}. {text}" for i in range(recs)] if recs > 1 and rng.random() < 0.3 else [text]
    if rng.random() < 0.15:
        yes = sorted(rng.sample(PARTIES, 4))
        lines += [f"For stemte: {', '.join(yes[:-1])} og {yes[-1]} ({rng.randint(5, 9)})",
                  f"Imod stemte: {rng.choice([p for p in PARTIES if p not in yes])} ({rng.randint(1, 3)})"]
    if rng.random() < 0.15:
        lines.append(f"{rng.choice(ABSENTEES)} deltog ikke i sagens behandling.")
    return lines


def _recommendations(ctx: _Ctx, recs: int) -> list[str]:
    verbs = ("godkendes", "tages til efterretning", "anbefales over for Byrådet", "drøftes")
    return [f"{i + 1}. At {ctx.rng.choice(OBJECTS)} {ctx.rng.choice(verbs)}." for i in range(recs)]


def _attachments(ctx: _Ctx) -> list[str]:
    n = ctx.rng.choice((0, 0, 1, 1, 2, 3, 5))
    return [f"{ctx.rng.choice(('Notat om', 'Bilag vedr.', 'Oversigt over', 'Rapport om'))} "
            f"{ctx.rng.choice(TOPICS)}" for _ in range(n)]


def _item_favrskov(ctx: _Ctx, num: int, title: str, decided: bool) -> list[str]:
    """Seed 000: upper-case sections, running header, `Udvalg, dato:` + `Fraværende` before the decision."""
    rng, recs = ctx.rng, rng_recs(ctx.rng)
    case = f"EMN-{ctx.date.year - rng.randint(0, 2)}-{rng.randint(100, 99999):05d}"
    atts = _attachments(ctx)
    out = [f"Punkt {num}: {title}", case]
    if atts:
        out += ["Bilag", *atts]
    out += [f"{num}. {title} (Åben)", "Tidl. politisk behandling", f"Forventet sagsgang {ctx.short}, ØK, BY",
            "Lovgrundlag", ctx.committee, f"{_long_date(ctx.date)} {ctx.time}", "SAGENS INDHOLD",
            *_paragraphs(ctx, 1, 3), f"Sags-ID: {case}", f"Dok-ID: {ctx.serial}{num:03d}",
            "Sagsbehandler: bench", "VURDERING", *_paragraphs(ctx, 0, 2), "ØKONOMI",
            "Der er ingen økonomiske konsekvenser forbundet med sagen.", "INDSTILLING",
            f"{rng.choice(DIRECTORS)} indstiller til {ctx.committee}:", *_recommendations(ctx, recs)]
    if decided:
        out += ["BESLUTNING", ".", f"{ctx.committee}, {_long_date(ctx.date)}:", "Fraværende: Ingen",
                *_decision_block(ctx, recs)]
    out.append("Bilag")
    out += [f"{i + 1}. {a} ([{rng.randint(1000000, 9999999)}](#))" for i, a in enumerate(atts)]
    return out


def _item_taastrup(ctx: _Ctx, num: int, title: str, decided: bool) -> list[str]:
    """Seed 001: `Beslutning {Udvalg} den DD-MM-YYYY` between Indstilling and Sagsfremstilling."""
    rng, recs = ctx.rng, rng_recs(ctx.rng)
    out = [f"Punkt {num}: {title}", f"{ctx.date.year % 100 - rng.randint(0, 2):02d}/{rng.randint(1000, 39999)}"]
    atts = _attachments(ctx)
    if atts:
        out += ["Bilag", *atts]
    out += ["Baggrund", *_paragraphs(ctx, 1, 3), "Indstilling", f"At {ctx.committee}",
            *_recommendations(ctx, recs)]
    if decided:
        out += [f"Beslutning {ctx.committee} den {ctx.date:%d-%m-%Y}", *_decision_block(ctx, recs)]
    out += ["Sagsfremstilling", *_paragraphs(ctx, 1, 4)]
    return out


def _item_frederiksberg(ctx: _Ctx, num: int, title: str, decided: bool) -> list[str]:
    """Seed 002: KLE case numbers, `Beslutning` before `Indstilling`, `Bilag N - titel`."""
    rng, recs = ctx.rng, rng_recs(ctx.rng)
    kle = f"{rng.randint(0, 88):02d}.{rng.choice((0, 20, 22)):02d}.00-P{rng.randint(0, 35):02d}"
    out = [f"Punkt {num}: {title}", f"{kle}-{rng.randint(1, 999)}-{ctx.date.year % 100:02d}", "Resume",
           _paragraph(ctx)]
    if decided:
        out += ["Beslutning", *_decision_block(ctx, recs)]
    out += ["Indstilling", f"{rng.choice(DIRECTORS)} indstiller, at udvalget", *_recommendations(ctx, recs),
            "Sagsfremstilling", *_paragraphs(ctx, 1, 4)]
    atts = _attachments(ctx)
    if atts:
        out += ["Bilag", *[f"Bilag {i + 1} - {a}" for i, a in enumerate(atts)]]
    return out


def _item_vejle(ctx: _Ctx, num: int, title: str, decided: bool) -> list[str]:
    """Seeds 003/004: Resume, Sagsfremstilling, a sentence as recommendation heading, `- At …` bullets."""
    rng = ctx.rng
    out = [f"Punkt {num}: {title}", f"15.{rng.randint(0, 40):02d}.00-G01-{rng.randint(1, 999)}-{ctx.date.year % 100}",
           "Resume", _paragraph(ctx), "Sagsfremstilling", *_paragraphs(ctx, 1, 4)]
    if rng.random() < 0.5:
        out += ["Klima og resiliensvurdering", "Ingen bemærkninger."]
    out += ["Økonomi", "Økonomi & HR har ingen bemærkninger.", f"{rng.choice(DIRECTORS)} indstiller,",
            *[f"- At {rng.choice(OBJECTS)} godkendes." for _ in range(rng_recs(rng))]]
    if decided:
        out += ["Beslutning", *_decision_block(ctx, 1)]
    atts = _attachments(ctx)
    if atts:
        out += ["Bilag", *atts]
    return out


def rng_recs(rng: random.Random) -> int:
    """How many numbered recommendations an item has (mostly one)."""
    return rng.choice((1, 1, 1, 2, 2, 3))


LAYOUTS: tuple[Callable[[_Ctx, int, str, bool], list[str]], ...] = (
    _item_favrskov, _item_taastrup, _item_frederiksberg, _item_vejle,
)


def _title(rng: random.Random) -> str:
    t = rng.choice(TOPICS)
    return rng.choice(TITLE_FORMS).format(t=t, T=t[0].upper() + t[1:])


def text_to_pdf(text: str, running_header: str = "") -> bytes:
    """The text as an A4 PDF (fpdf2, core font): running header, blank line between paragraphs, page footers.

    Not `bench.corpus_pdf.text_to_pdf`: that one measures every word (multi_cell, TTF) at ~0.4 s a document
    and stamps the current time, so its bytes (the document ids) change from run to run.
    """
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    # A fixed date keeps the bytes, and so the document id, the same for the same seed.
    pdf.set_creation_date(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    pdf.set_auto_page_break(auto=False)
    pdf.set_font("Helvetica", size=10)
    # Wrapping by character count and placing lines with text() is ~20x faster than multi_cell, which
    # measures every word; 2,000-document corpora must generate in seconds.
    lines: list[str] = []
    for block in text.split("\n\n"):
        lines.extend(textwrap.wrap(block, 95) or [""])
        lines.append("")
    per_page = 52
    pages = [lines[i : i + per_page] for i in range(0, len(lines), per_page)]
    for number, page in enumerate(pages, 1):
        pdf.add_page()
        pdf.set_font("Helvetica", size=8)
        pdf.text(18, 12, running_header)
        pdf.set_font("Helvetica", size=10)
        for row, line in enumerate(page):
            if line:
                # Core fonts are latin-1; the generator writes only latin-1 letters (æøå are in it).
                pdf.text(18, 20 + row * 5, line.encode("latin-1", "replace").decode("latin-1"))
        pdf.set_font("Helvetica", size=8)
        pdf.text(95, 287, f"Side {number} af {len(pages)}")
    return bytes(pdf.output())


def generate_document(seed: int, index: int, pdf: bool = False) -> GeneratedDoc:
    """Document `index` of the corpus of `seed`: text (or a PDF of the same text) and its expected counts."""
    rng = random.Random(f"minutes-bench:{seed}:{index}")
    names = municipalities()
    committee, short = rng.choice(COMMITTEES)
    date = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(3650))
    ctx = _Ctx(rng, rng.choice(names), committee, short, date, f"{rng.choice((8, 9, 13, 15, 16, 17, 19)):02d}:"
               f"{rng.choice((0, 15, 30, 45)):02d}", f"{seed % 1000:03d}{index:06d}")
    layout = rng.choice(LAYOUTS)
    # Mostly small meetings, a long tail up to 40 items (a budget meeting of the city council).
    n_items = min(40, max(1, round(rng.triangular(1, 40, 5))))
    first = 1 if rng.random() < 0.6 else rng.randint(2, 150)
    items: list[tuple[int, str, bool, bool]] = []
    for pos in range(n_items):
        num = first + pos
        closed = n_items > 2 and 0 < pos < n_items - 1 and rng.random() < 0.05
        title = "Lukket" if closed else (rng.choice(FIXED_TITLES) if rng.random() < 0.1 else _title(rng))
        items.append((num, title, closed, not closed))
    if not any(decided for *_, decided in items):  # every document must publish at least one decision
        num, title, _closed, _ = items[0]
        items[0] = (num, _title(rng), False, True)
    lines = [f"REFERAT {committee} d. {date:%d-%m-%Y}",
             f"Mødedato {WEEKDAYS[date.weekday()]} d. {date.day:02d}. {MONTHS[date.month - 1]} {date.year} "
             f"kl. {ctx.time}",
             f"Mødested {rng.choice(('Byrådssalen', 'Mødelokale 2', 'Udvalgsværelse 1'))}, {ctx.muni} Rådhus"]
    if rng.random() < 0.4:
        lines.append(f"Mødedeltagere {', '.join(rng.sample(ABSENTEES, 5))}")
    lines.append("Indholdsfortegnelse")
    page = 3
    for _num, title, _closed, _d in items:
        lines.append(f"{title[:90]}.....\t{page}")
        page += rng.randint(1, 4)
    for num, title, closed, decided in items:
        if closed:
            lines += [f"Punkt {num}: Lukket", f"{date.year % 100:02d}/{rng.randint(1000, 39999)}"]
        else:
            lines += layout(ctx, num, title, decided)
    text = "\n\n".join(lines) + "\n"
    decisions = sum(1 for *_, decided in items if decided)
    stem = f"{index:06d}_{ctx.muni.lower().replace(' ', '-')}_{date:%Y-%m-%d}"
    if pdf:
        pdf_bytes = text_to_pdf(text, f"{committee} - {_long_date(date)} - Åbent referat")
        return GeneratedDoc(f"{stem}.pdf", pdf_bytes, decisions, n_items)
    return GeneratedDoc(f"{stem}.txt", text.encode("utf-8"), decisions, n_items)


def is_pdf_index(index: int, pdf_share: float) -> bool:
    """Exactly round(n * share) of the first n documents are PDFs, spread evenly."""
    return int((index + 1) * pdf_share) > int(index * pdf_share)


def generate_corpus(n: int, seed: int = 0, pdf_share: float = 0.1, start: int = 0) -> list[GeneratedDoc]:
    """Documents `start` .. `start + n - 1` of the corpus of `seed`."""
    return [generate_document(seed, i, is_pdf_index(i, pdf_share)) for i in range(start, start + n)]
