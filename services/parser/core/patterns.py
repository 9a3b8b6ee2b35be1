"""Layout knowledge as data: heading names, labels, phrases and their meaning.

Every table here describes what Danish agenda systems print, not how one file looks. To support a
new family, add rows here first; the parsing code reads these tables and should rarely change.
All regexes are anchored, bounded and free of nested quantifiers so no input can make them backtrack
catastrophically.
"""

from __future__ import annotations

import re
from typing import Final

from shared.contracts.meeting import Outcome

# --- Item headings -------------------------------------------------------------------------------
# Explicit prefixes: `Punkt 64: Meddelelser`, `Pkt. 42 Godkendelse`, `Sag nr. 3 - ...`,
# `Dagsordenspunkt 5`. The number may be followed by nothing (title on the next line).
# `Sag 306-2009-600` is a KMD PolWeb case id, not an item number: the lookahead refuses a `-digit`.
EXPLICIT_ITEM: Final = re.compile(
    r"^(?P<prefix>Punkt|PUNKT|Pkt\.?|PKT\.?|Dagsordenspunkt|Dagsordenpunkt|Sag(?:\s+nr\.?)?)"
    r"\s{0,3}(?P<num>\d{1,4})(?![\d/.-]\d)\s{0,3}(?P<sep>[:.)\-–]?)\s{0,3}(?P<title>.*)$"
)
# `1. Godkendelse af dagsorden (B)`, `12) Meddelelser`: the classic numbered agenda line.
NUMBERED_ITEM: Final = re.compile(r"^(?P<num>\d{1,3})(?P<sep>[.)])\s{1,4}(?P<title>[A-ZÆØÅÉ\"'“”«(].*)$")
# `38Godkendelse af dagsorden`: number glued to the title (some PDF exports lose the tab).
GLUED_ITEM: Final = re.compile(r"^(?P<num>\d{1,3})(?P<title>[A-ZÆØÅ][a-zæøåé].*)$")
# The number alone on its line (HTML portals put it in its own element), title on the next line.
BARE_NUMBER: Final = re.compile(r"^(?P<num>\d{1,3})\.?$")

# Numbered headings of layouts no known family claims (the generic path, `profiles/generic.py`):
# `1 Title` / `1 : Title` / `1 - Title` (a number without a dot, Word and portal exports),
SPACED_ITEM: Final = re.compile(r"^(?P<num>\d{1,3})\s{1,4}(?:[:\-–]\s{1,4})?(?P<title>[A-ZÆØÅÉ\"'“”«(].*)$")
# `1 : Godkendelse af dagsorden`: agenda portal views print a spaced colon after item numbers only.
COLON_ITEM: Final = re.compile(r"^(?P<num>\d{1,3}) : (?P<title>\S.*)$")
# `1.Temamøde - Diger` / `1)Title`: the number glued to its title after the dot,
GLUED_DOT_ITEM: Final = re.compile(r"^(?P<num>\d{1,3})[.)](?P<title>[A-ZÆØÅ][a-zæøåé].*)$")
# `§ 1. Title` (by-law style minutes), `Nr. 1 - Title` / `Nr.1 Title`.
SECTION_SIGN_ITEM: Final = re.compile(r"^§\s{0,2}(?P<num>\d{1,3})(?![\d.,]\d)\s{0,3}[.:\-–]?\s{0,3}(?P<title>.*)$")
NR_ITEM: Final = re.compile(r"^(?:Nr|NR|nr)\.?\s{0,2}(?P<num>\d{1,3})(?![\d/.-]\d)\s{0,3}[.:\-–]?\s{0,3}(?P<title>.*)$")
# `Sag nr. 129` alone under the title it numbers (the number printed below the heading, not before it).
NUMBER_BELOW: Final = re.compile(r"^(?:Sag|Punkt|Pkt\.?)\s{1,3}(?:nr\.?\s{0,3})?(?P<num>\d{1,3})\.?$")
# A sub-item `1.1 Title` / `2.3. Title`: part of its parent item, never an item of its own.
SUB_ITEM: Final = re.compile(r"^\d{1,3}\.\d{1,2}\.?(?:\s|$)")

# A case number in brackets after the title (Københavns Kommune: `Ny affaldsplan (2022-0365287)`).
CASE_IN_TITLE: Final = re.compile(
    # the shapes of `CASE_SHAPES`: a system that brackets its case numbers may use any of them
    r"\s*\((?:sagsnr\.?\s?:?\s?)?(?P<case>\d{4}-\d{6,7}|\d{2,4}/\d{2,7}(?:-\d{1,4})?|[A-ZÆØÅ]{2,6}-\d{4}-\d{2,}"
    r"|\d{2}\.\d{2}(?:\.\d{2})?-?[A-ZÆØÅ]\d{2}-\d{1,6}-\d{2,4}|\d{3}-\d{4}-\d{1,7}|[A-ZÆØÅ]\d{4}-\d{2,7})\)\s*$",
    re.I,
)
# Titles every agenda system prints for routine items; they often have no sections, so they are
# evidence of an item on their own (`5. Eventuelt` / `Intet.`).
ROUTINE_TITLE: Final = re.compile(
    r"^(?:eventuelt|evt\.?|meddelelser(?:\s+og\s+orienteringer?)?|orienteringer?|orientering\s+fra\s+\S.{0,60}|"
    r"godkendelse\s+af\s+(?:dagsorden(?:en)?|referat(?:et)?|protokol(?:len)?|beslutningsprotokol(?:len)?)|"
    r"næste\s+møde|underskrift(?:sark)?|fraværende|afbud|gensidig\s+orientering|siden\s+sidst|nyt\s+fra\s+\S.{0,60}|"
    r"formandens\s+orientering|direktørens\s+orientering)\s*[.:]?$",
    re.I,
)

# Item-kind letters after a title: `(B)` beslutning, `(O)` orientering, `(D)` drøftelse, `(E)` ...
ITEM_KIND_SUFFIX: Final = re.compile(r"\s*\((?:[A-ZÆØÅ]|[A-ZÆØÅ]/[A-ZÆØÅ])\)\s*$")
# `(Lukket)`, `(Lukket punkt)`, `(Åben)`, `(Åbent punkt)` after a title.
OPEN_CLOSED_SUFFIX: Final = re.compile(r"\s*\((?P<mark>Lukket(?: punkt)?|Åben(?:t punkt)?|Fortrolig)\)\s*$", re.I)
# `Lukket: Køb af ejendom` / `Lukket punkt - ...`: the title proper follows the marker.
CLOSED_PREFIX: Final = re.compile(r"^(?:Lukket(?:\s+punkt|\s+sag)?|Fortrolig)\s*[:\-–]\s*(?P<title>\S.*)$", re.I)
# Whole-title or whole-line markers of a closed item.
CLOSED_LINES: Final = frozenset(
    {"lukket", "lukket punkt", "lukket sag", "lukket referat", "lukket dagsorden", "fortroligt punkt",
     "lukket møde", "(lukket)", "fortrolig"}
)
OPEN_LINES: Final = frozenset({"åbent punkt", "åben", "(åben)", "åbent referat", "åben sag"})

# --- Sections ------------------------------------------------------------------------------------
# Section kinds the parser acts on; everything else is kept as a plain named section.
DECISION = "decision"
RECOMMENDATION = "recommendation"
ATTACHMENTS = "attachments"
ATTENDANCE = "attendance"
HISTORY = "history"  # the case's earlier treatment: other meetings' decisions, never this one's
OTHER = "other"

# Headings printed alone on a line (case-insensitive, an optional trailing colon). Labels marked
# `inline` may carry their value on the same line (`Forventet sagsgang AU, ØK, BY`).
SECTION_NAMES: Final[dict[str, str]] = {
    # what the committee decided
    "beslutning": DECISION, "beslutninger": DECISION, "afgørelse": DECISION, "udvalgets beslutning": DECISION,
    "beslutning i mødet": DECISION, "protokol": DECISION, "protokollat": DECISION,
    "beslutningsprotokol": DECISION,
    # what the administration recommends
    "indstilling": RECOMMENDATION, "indstillinger": RECOMMENDATION, "forslag til beslutning": RECOMMENDATION,
    "forvaltningens indstilling": RECOMMENDATION, "administrationens indstilling": RECOMMENDATION,
    "direktionens indstilling": RECOMMENDATION, "indstilling og beslutning": RECOMMENDATION,
    "forslag": RECOMMENDATION, "anbefaling": RECOMMENDATION,
    "administrativ indstilling": RECOMMENDATION, "administrationens forslag": RECOMMENDATION,
    # attachments
    "bilag": ATTACHMENTS, "bilag:": ATTACHMENTS, "bilagsliste": ATTACHMENTS, "vedlagte bilag": ATTACHMENTS,
    "bilagsfortegnelse": ATTACHMENTS,
    # the case's history
    "sagsforløb": HISTORY, "sagens forløb": HISTORY, "tidligere behandling": HISTORY,
    "tidligere beslutninger": HISTORY, "historik": HISTORY, "sagshistorik": HISTORY,
    "behandlingsforløb": HISTORY, "tidligere behandlinger": HISTORY, "politisk behandling": HISTORY,
    "tidl. politisk behandling": HISTORY, "tidligere politisk behandling": HISTORY,
    # what is put to the vote (Aarhus: `Beslutningspunkter` / `Det indstilles:`)
    "beslutningspunkter": RECOMMENDATION,
    # attendance block inside an item
    "fraværende": ATTENDANCE, "afbud": ATTENDANCE, "forfald": ATTENDANCE, "fremmøde og inhabilitet": ATTENDANCE,
    # case text and everything else printed as a heading
    "resume": OTHER, "resumé": OTHER, "sagsfremstilling": OTHER, "sagens indhold": OTHER, "baggrund": OTHER,
    "sagsbeskrivelse": OTHER, "beskrivelse": OTHER, "sagen": OTHER, "indledning": OTHER, "formål": OTHER,
    "vurdering": OTHER, "forvaltningens vurdering": OTHER, "administrationens vurdering": OTHER,
    "økonomi": OTHER, "økonomiske konsekvenser": OTHER, "økonomi og finansiering": OTHER,
    "bevillingsmæssige konsekvenser": OTHER, "lovgrundlag": OTHER, "retsgrundlag": OTHER,
    "lovgivning": OTHER, "klima og resiliensvurdering": OTHER, "klimavurdering": OTHER,
    "bæredygtighed": OTHER, "miljømæssige konsekvenser": OTHER, "sagens videre forløb": OTHER,
    "videre forløb": OTHER, "videre proces": OTHER, "tidsplan": OTHER, "høring": OTHER, "høringssvar": OTHER,
    "kommunikation": OTHER, "andre konsekvenser": OTHER, "personalemæssige konsekvenser": OTHER,
    "sagen afgøres endelig af": OTHER, "beslutningskompetence": OTHER, "kompetence": OTHER,
    "kompetencefordeling": OTHER, "borgmesterpåtegning": OTHER, "behandling": OTHER,
    "supplerende sagsfremstilling": OTHER,
    "administrationens bemærkninger": OTHER, "bemærkninger": OTHER, "konklusion": OTHER,
    "forventet sagsgang": OTHER, "sagsgang": OTHER, "underskriftsside": OTHER, "underskrifter": OTHER,
    "handicappolitik": OTHER, "konsekvenser": OTHER, "udtalelse": OTHER, "udtalelser": OTHER,
    "mindretalsudtalelse": OTHER, "protokoltilførsel": OTHER, "sammenfatning": OTHER, "problemstilling": OTHER,
    "retsregler og andre forskrifter": OTHER, "anledning": OTHER, "sagsbeskrivelse og vurdering": OTHER,
    "finansiering": OTHER, "risikovurdering": OTHER, "inddragelse": OTHER, "borgerinddragelse": OTHER,
}
# Labels that may carry their value on the same line without a colon.
# Only labels that never start an ordinary sentence qualify (`Behandling af …` would).
INLINE_LABELS: Final = frozenset(
    {"tidl. politisk behandling", "tidligere politisk behandling", "forventet sagsgang", "sagsgang"}
)
# `Beslutning Arbejdsmarkedsudvalget den 05-10-2022`, `Beslutning fra Plan, Miljø og Teknik, 30. november
# 2021, pkt. 563:`, `Beslutning i Byrådet den 4. maj 2021`, `BESLUTNING`.
DECISION_HEADING: Final = re.compile(
    r"^(?:beslutning(?:er)?|afgørelse)(?:(?P<colon>\s*[:\-–]\s*|\s+(?:(?:i|fra|på|af|taget\s+i|truffet\s+i)\s+)?)"
    r"(?P<meta>\S.{0,200}))?\s*:?$",
    re.I,
)
# `Indstilling`, `Indstilling fra forvaltningen`, `Indstilling til Byrådet:`.
RECOMMENDATION_HEADING: Final = re.compile(r"^indstilling(?:er)?(?:\s+(?:fra|til)\s+[^.]{1,80})?\s*:?$", re.I)
# `Økonomiudvalgets beslutning den 04.12.2012 Punkt 1`, `Byrådets beslutning:`.
GENITIVE_DECISION_HEADING: Final = re.compile(
    r"^(?P<who>[A-ZÆØÅ][\w\-–,. ]{1,80}?s)\s+beslutning(?:er)?\b\s*(?P<meta>.{0,100})$", re.I
)
# Recommendation headings that are sentences: `Økonomi- og arbejdsmarkedsdirektøren indstiller`,
# `Direktøren for Social/Sundhed og Arbejdsmarked indstiller,`, `Forvaltningen indstiller til Byrådet:`.
RECOMMENDATION_SENTENCE: Final = re.compile(
    r"^[A-ZÆØÅ][^.:;]{2,110}?\b(?:indstiller|foreslår|anbefaler)(?:\s+til\s+[\wæøåÆØÅ\-]+(?:\s+[\wæøåÆØÅ\-]+)?)?"
    r"\s*[,:]?$"
)

# --- Case numbers --------------------------------------------------------------------------------
# Shapes of case numbers printed on their own line right after the item heading.
CASE_SHAPES: Final = re.compile(
    r"^(?:"
    r"[A-ZÆØÅ]{2,6}-\d{4}-\d{2,}"  # EMN-2022-00409 (eDoc / SBSYS)
    r"|\d{2}\.\d{2}(?:\.\d{2})?\s?-?\s?[A-ZÆØÅ]\d{2}-\d{1,6}-\d{2,4}"  # 15.00.00-G01-517-23, 00.30.14G01-4-20
    r"|\d{2,4}/\d{2,7}(?:-\d{1,4})?"  # 22/10554 (Acadre)
    r"|\d{3}-\d{4}-\d{1,7}"  # 306-2009-600 (KMD PolWeb: municipality code - year - serial)
    r"|\d{4}-\d{6,7}"  # 2022-0365287 (Københavns Kommune)
    r"|[A-ZÆØÅ]\d{4}-\d{2,7}"  # S2019-1234
    r")$"
)
# Labelled case numbers anywhere in the item: `Sagsnr.: 330-2020-164  Dok.nr.: …`, `Sags-ID: EMN-…`.
CASE_LABEL: Final = re.compile(
    r"(?:^|\s)(?P<label>Sagsnr|Sags\.?\s?nr|Sagsnummer|Sagsid|Sags-?ID|Sag\s+ID|Sag\s+nr|Journalnr|Journal\s+nr|"
    r"J\.\s?nr|Jnr|Acadre\s+sagsnr|Sag)\.?\s?:?\s{0,3}(?P<value>[A-ZÆØÅ0-9][A-ZÆØÅa-zæøå0-9./\-]{1,40})",
    re.I,
)
# A bare `Sag` label is too common a word: its value must have a case-number shape.
LOOSE_CASE_LABELS: Final = frozenset({"sag"})

# --- Attendance ----------------------------------------------------------------------------------
# `Fraværende: X`, `Ikke til stede: …`, `Afbud: …`, `Følgende deltog ikke i behandlingen af punktet: …`
ABSENT_LABEL: Final = re.compile(
    r"^(?:(?:Fraværende|Ikke\s+til\s+stede|Afbud|Forfald|Deltog\s+ikke)(?:\s+(?:under|ved|fra|med|i)\s[^:\n]{0,60})?|Fravær|"
    r"Afbud/Fraværende|Fraværende/Afbud|Meldt\s+afbud|"
    r"Fremmøde\s+og\s+inhabilitet|Følgende\s+deltog\s+ikke\s+i\s+(?:behandlingen|sagens\s+behandling)"
    r"[^:]{0,40})\s*(?::|[-–](?=\s))\s*(?P<names>.*)$",
    re.I,
)
# `X deltog ikke i sagens behandling`, `X var fraværende`, `X havde meldt afbud, og Y deltog i stedet`.
ABSENT_SENTENCE: Final = re.compile(
    r"^(?P<names>[A-ZÆØÅ][^.:;]{1,200}?)\s+(?:deltog\s+ikke\s+i\s+(?:sagens\s+behandling|behandlingen"
    r"(?:\s+af\s+(?:sagen|punktet|dette\s+punkt))?|mødet|punktet)|var\s+fraværende|var\s+ikke\s+til\s+stede|"
    r"havde\s+meldt\s+afbud|har\s+meldt\s+afbud|meldte\s+afbud|forlod\s+mødet\s+under\s+behandlingen"
    r"(?:\s+af\s+(?:sagen|punktet))?|var\s+forhindret\s+i\s+at\s+deltage|var\s+forhindret|deltog\s+ikke"
    r"(?:\s+af\s+(?:sagen|punktet))?)\b"
)
# Words that say "nobody": `Fraværende: Ingen`.
NOBODY: Final = frozenset({"ingen", "-", "–", "intet", "ingen afbud", "ingen fraværende", "alle mødt", "0"})
# Clauses around names that are not names: `X (V) erklærede sig inhabil og`.
ABSENT_NOISE: Final = re.compile(
    r"\s*,?\s*\b(?:erklærede\s+sig|blev\s+erklæret|var\s+inhabil|mødte\s+som\s+stedfortræder|deltog\s+i\s+stedet|"
    r"deltog\s+ikke|forlod\s+mødet|var\s+fraværende)\b.*$",
    re.I,
)
# Segments naming substitutes, not absentees (`Y (V) mødte som stedfortræder`).
SUBSTITUTE: Final = re.compile(r"stedfortræder|i\s+stedet|suppleant", re.I)
# Party letters and roles after a name: `Anne Hansen (V)`, `Ole Bo, formand`.
# Roles in brackets count as well: `Lone Berg (formand)`.
PARTY_SUFFIX: Final = re.compile(
    r"\s*\((?:[A-ZÆØÅ]{1,3}|(?i:formand|næstformand|borgmester|viceborgmester|sekretær|referent|suppleant|"
    r"stedfortræder|tilforordnet|løsgænger|uden\s+for\s+parti))\)"
)
ROLE_WORDS: Final = frozenset(
    {"formand", "næstformand", "borgmester", "viceborgmester", "medlem", "sekretær", "referent",
     "udvalgsformand", "direktør", "afdelingschef", "rådmand", "byrådsmedlem", "kommunalbestyrelsesmedlem",
     "regionsrådsmedlem", "suppleant", "stedfortræder", "overborgmester", "borgmesteren", "formanden",
     "næstformanden", "2. næstformand", "1. næstformand", "menigt medlem"}
)
_ROLES: Final = (
    r"(?:1\.\s|2\.\s)?(?:over|vice)?(?:borgmester(?:en)?|formand(?:en)?|næstformand(?:en)?|rådmand(?:en)?|"
    r"udvalgsformand|byrådsmedlem|kommunalbestyrelsesmedlem|regionsrådsmedlem|menigt\s+medlem|medlem|"
    r"suppleant|stedfortræder|sekretær|referent)"
)
# A role before or after a name: `Rådmand Anne Hansen`, `Eva Holm - formand`, `Ole Bo (formand)`.
ROLE_LEAD: Final = re.compile(rf"^{_ROLES}\s+(?=[A-ZÆØÅ])", re.I)
ROLE_TAIL: Final = re.compile(rf"\s*(?:[-–,]\s*|\s)\(?{_ROLES}\)?\s*$", re.I)

# --- Votes ---------------------------------------------------------------------------------------
# A member's or a group's own position inside a decision (`Eva Holm kunne ikke tiltræde indstillingen`,
# `Venstre tog forbehold`): what the minority did, not what the body decided. A sentence whose subject
# is the body itself (`Udvalget kunne ikke anbefale …`) is the decision.
POSITION: Final = re.compile(
    r"^(?P<who>[A-ZÆØÅ][^.:;\n]{0,200}?)\s+(?:(?:kunne|kan|ville)\s+ikke\s+(?:tiltræde|anbefale|godkende|støtte|"
    r"medvirke|stemme\s+for)|tog\s+forbehold|tager\s+forbehold|stemte\s+imod|undlod\s+at\s+stemme|"
    r"ønskede\s+(?:sin|deres|at\s+få\s+sin)\s+(?:stemme|holdning|mindretalsudtalelse)|"
    r"afgav\s+(?:en\s+)?mindretalsudtalelse|ønskede\s+sig\s+ført\s+til\s+protokol)\b"
)
# Subjects that are the deciding body, not a member or group of it.
BODY_SUBJECT: Final = re.compile(
    r"\b(?:udvalget|byrådet|kommunalbestyrelsen|magistraten|regionsrådet|borgerrepræsentationen|bestyrelsen|"
    r"rådet|nævnet|økonomiudvalget|forsamlingen|flertallet|et\s+flertal)\b",
    re.I,
)
# `Et flertal (A, V) kunne tiltræde …`: the majority's sentence states the outcome.
MAJORITY_LEAD: Final = re.compile(r"^(?:et\s+flertal|flertallet)\b", re.I)
# `X ønskede sin stemme ført til protokol` (kept in the decision text; not a vote count).
# Votes on amendments come before the vote on the recommendation: the sentence before a vote block
# says which it is (`Ændringsforslaget blev forkastet efter følgende afstemning:`).
AMENDMENT: Final = re.compile(r"(?:ændrings|tillægs|under)forslag", re.I)
# Quoted proposals and protocol remarks are not the decision (`"at udgiften godkendes …"`).
QUOTED: Final = re.compile(r"\"[^\"\n]{1,800}\"|“[^”\n]{1,800}”|„[^“”\n]{1,800}[“”]|»[^«\n]{1,800}«")

# --- Outcomes ------------------------------------------------------------------------------------
# Phrase -> outcome. The earliest phrase in the decision text wins; on a tie the longer phrase wins,
# so `Ikke godkendt` beats `godkendt` and `Indstilles godkendt` beats `godkendt`. `\b` guards keep
# `udsathed` from reading as `udsat`.
_NEG = r"(?:ikke|ej)"
OUTCOME_PHRASES: Final[tuple[tuple[re.Pattern[str], Outcome], ...]] = tuple(
    (re.compile(p, re.I), o)
    for p, o in (
        # rejected: negations first, so `ikke godkendt` and `kunne ikke anbefale` beat `godkendt`/`anbefale`
        (rf"\b{_NEG}\s+(?:godkendt|godkendte|godkendes|tiltrådt|tiltrådte|vedtaget|anbefalet|anbefales|"
         r"imødekommet|bevilget|taget\s+til\s+følge)\b", Outcome.REJECTED),
        (r"\b(?:kan|kunne)\s+ikke\s+(?:godkende|anbefale|tiltræde|imødekomme|støtte|bevillige)\b", Outcome.REJECTED),
        (r"\b(?:anbefales|godkendes|tiltrædes|vedtages|imødekommes|bevilges|anbefaler|anbefalede|godkender|"
         r"godkendte|tiltrådte|vedtog|tiltræder)\s+ikke\b", Outcome.REJECTED),
        (r"\bikke\s+at\s+(?:godkende|anbefale|tiltræde|imødekomme|bevilge|vedtage)\b", Outcome.REJECTED),
        (r"\b(?:ikke|intet)\s+flertal\s+for\b", Outcome.REJECTED),
        (r"\b(?:forkastet|forkastes|forkastede|afvist|afvises|afviste|afslået|afslås|faldt|bortfaldt|"
         r"meddeles\s+afslag|gives\s+afslag|give\s+afslag)\b", Outcome.REJECTED),
        # postponed
        (r"\b(?:udsat|udsættes|udskudt|udskydes|udsatte|udsætte)\b", Outcome.POSTPONED),
        (r"\b(?:genoptages|tages\s+op\s+igen|behandles\s+på\s+(?:et\s+senere|næste)\s+møde)\b", Outcome.POSTPONED),
        # `ønsker sagen genoptaget på kommende møde`, `tage sagen op igen på næste møde`, `udsætte sagens behandling`
        (r"\b(?:genoptaget|genoptage|tage\s+(?:sagen|punktet)\s+op(?:\s+igen)?|tages\s+op)\s+(?:\S+\s+){0,2}?på\s+"
         r"(?:et\s+senere|næste|kommende|et\s+kommende|et\s+efterfølgende)\s+møde\b", Outcome.POSTPONED),
        (r"\b(?:ønsker|ønskede)\s+(?:sagen|punktet)\s+genoptaget\b", Outcome.POSTPONED),
        (r"\bsendes\s+tilbage\s+til\s+(?:forvaltningen|administrationen)\b", Outcome.POSTPONED),
        # `besluttede at sende sagen tilbage til fornyet behandling i Økonomiudvalget`
        (r"\b(?:sende|sendte)\s+(?:sagen|punktet)\s+tilbage\b", Outcome.POSTPONED),
        (r"\b(?:taget|trukket|tages|trækkes)\s+(?:af|fra)\s+dagsordenen\b", Outcome.POSTPONED),
        # recommended (sent on to a higher body)
        (r"\b(?:anbefales|anbefalet|anbefaler|anbefalede)\b", Outcome.RECOMMENDED),
        (r"\bindstilles\s+(?:godkendt|vedtaget|tiltrådt|til\s+\S+\s+godkendelse|til\s+godkendelse)\b",
         Outcome.RECOMMENDED),
        (r"\b(?:indstiller|indstillede)\s+til\s+(?:byrådet|kommunalbestyrelsen|økonomiudvalget|"
         r"regionsrådet|borgerrepræsentationen)\b", Outcome.RECOMMENDED),
        (r"\b(?:oversendes|videresendes|sendes\s+videre|fremsendes)\s+til\s+(?:byrådet|kommunalbestyrelsen|"
         r"økonomiudvalget|borgerrepræsentationen|regionsrådet)s?\b", Outcome.RECOMMENDED),
        # other: handed to another committee or the administration (`Oversendes til Kultur- og Fritidsudvalget`)
        (r"\b(?:oversendes|videresendes|sendes\s+videre|henvises)\s+til\b", Outcome.OTHER),
        # noted (`Drøftet og taget til efterretning` is noted: the longer phrase wins at the same start)
        (r"\b(?:drøftet|drøftede)\s+og\s+(?:taget|tog|tages)\s+til\s+(?:efterretning|orientering)\b", Outcome.NOTED),
        (r"\b(?:taget|tages|tog)\s+(?:\S+\s+){0,25}?til\s+(?:efterretning|orientering)\b", Outcome.NOTED),
        (r"\btil\s+(?:efterretning|orientering)\b", Outcome.NOTED),
        (r"\b(?:orienteringen|orientering)\s+(?:blev\s+)?(?:givet|modtaget)\b", Outcome.NOTED),
        (r"\b(?:blev|er)\s+orienteret\b", Outcome.NOTED),
        # `Administrationen orienterede yderligere om: …`: the minute of a briefing, whatever it mentions
        (r"^[A-ZÆØÅ][\w-]{1,40}(?:\s[\w-]{1,40})?\s+orienterede\s+(?:\S+\s+){0,3}?om\b", Outcome.NOTED),
        (r"\b(?:noteret|taget\s+til\s+orientering)\b", Outcome.NOTED),
        # discussed (weak: another outcome later in the same sentence wins, `drøftede … og godkendte`)
        (r"\b(?:drøftet|drøftede|drøftes|drøftelse|drøftelsen)\b", Outcome.DISCUSSED),
        # approved
        (r"\b(?:godkendt|godkendte|godkendes|godkender|godkendelse\s+givet)\b", Outcome.APPROVED),
        (r"\b(?:tiltrådt|tiltrådte|tiltrædes|tiltræder|vedtaget|vedtog|vedtages|"
         r"bevilget|bevilgede|bevilges|imødekommet|imødekommes|vedtaget\s+som\s+indstillet)\b", Outcome.APPROVED),
        (r"\bindstillingen\s+(?:følges|fulgt|blev\s+fulgt)\b", Outcome.APPROVED),
        (r"\b(?:kan|kunne)\s+tiltræde\b", Outcome.APPROVED),
        (r"\bsom\s+indstillet\b", Outcome.APPROVED),
        (r"\b(?:taget|tages)\s+til\s+følge\b", Outcome.APPROVED),
    )
)
# Verbs that say a decision was taken but not which: read only when no phrase above occurs
# (`Udvalget besluttede at udsætte sagen` is postponed, `… besluttede ikke at anbefale` rejected).
WEAK_OUTCOME_PHRASES: Final[tuple[tuple[re.Pattern[str], Outcome], ...]] = tuple(
    (re.compile(p, re.I), o)
    for p, o in (
        (r"\b(?:besluttet|besluttede|beslutter|besluttes)\b", Outcome.APPROVED),
    )
)
# What templates leave in an empty decision field: no decision.
PLACEHOLDERS: Final = frozenset(
    {"tomt indhold", "tom", "(tom)", "[tom]", "indhold mangler", "ikke udfyldt", "udfyldes", "udfyldes senere",
     "…", "...", "xx", "xxx", "-", "–", "afventer", "afventer mødet", "beslutning", "beslutning:"}
)
# What a portal prints where a decision is withheld (`Beslutning ikke frigivet`, `Ikke offentlig`): no decision,
# not a decision of outcome `other`. Matched against the whole, case-folded field text.
UNRELEASED: Final = re.compile(
    r"^\(?(?:(?:denne\s+)?(?:beslutning(?:en)?|referat(?:et)?|punktet|sagen)\s+)?(?:er\s+|blev\s+)?(?:endnu\s+)?"
    r"(?:ikke|ej)\s+(?:frigivet|frigjort|offentlig(?:t|gjort)?|publiceret|tilgængelig|til\s+offentliggørelse)"
    r"(?:\s+endnu)?\)?$|^\(?(?:ikke[\s-]offentlig|fortrolig|lukket)\s+(?:beslutning|referat)\)?$"
)
# Running page headers printed as text (no form feed): `Plan- og Boligudvalget - Referat - 07.02.2024`.
# (`parse._may_name_kind` tests for these words before the regex: keep the two in step.)
DOCUMENT_KIND_WORD: Final = re.compile(r"\b(?:referat|dagsorden|beslutningsprotokol|mødeprotokol)\b", re.I)
# A candidate item heading whose title starts like a decision is the decision's own numbering
# (`Punkt 1. Godkendt`), not a new item.
DECISION_START: Final = re.compile(
    r"^(?:godkendt|godkendes|tiltrådt|vedtaget|anbefales|indstilles|taget\s+til|til\s+efterretning|udsat|"
    r"drøftet|ikke\s+godkendt|forkastet|som\s+indstillet)\b",
    re.I,
)

# --- Meeting header ------------------------------------------------------------------------------
# Title lines: `REFERAT Arbejdsmarkedsudvalget d. 04-10-2023`, `Dagsorden for Byrådet`, `Åbent referat`.
KIND_TITLE: Final = re.compile(
    r"^(?P<kind>(?:Åbent\s+|Åben\s+|Lukket\s+)?(?:referat|dagsorden|beslutningsprotokol|protokol|"
    r"mødereferat|beslutningsreferat)(?:\s+med\s+beslutninger)?)\b(?:\s*[:\-–]\s*|\s+)?"
    r"(?:(?:af|for|fra)\s+(?:møde(?:t)?\s+(?:i|på)\s+)?)?(?P<rest>.*)$",
    re.I,
)
# The kind printed after the committee: `Arbejdsmarkedsudvalget - Referat`.
KIND_AFTER: Final = re.compile(
    r"^(?P<rest>.{3,120}?)\s*[\-–,]\s*(?P<kind>(?:Åbent\s+|Åben\s+)?(?:referat|dagsorden|beslutningsprotokol))\b",
    re.I,
)
AGENDA_WORDS: Final = ("dagsorden",)
MINUTES_WORDS: Final = ("referat", "protokol")

# Label -> field for header label/value pairs (`Mødested Mødelokale B105`, `Udvalg: Byrådet`).
HEADER_LABELS: Final[tuple[tuple[str, str], ...]] = (
    ("mødedato og tidspunkt", "datetime"), ("mødedato og -tidspunkt", "datetime"), ("mødedato", "datetime"),
    ("mødetidspunkt", "datetime"), ("mødetid", "datetime"), ("dato og tid", "datetime"),
    ("dato", "datetime"), ("tidspunkt", "time"), ("starttidspunkt", "time"), ("mødestart", "time"),
    ("tid", "time"), ("afholdt", "datetime"),
    ("mødested", "location"), ("mødelokale", "location"), ("lokale", "location"), ("sted", "location"),
    ("adresse", "location"),
    ("udvalg", "committee"), ("udvalgsnavn", "committee"), ("forum", "committee"), ("organ", "committee"),
    ("mødedeltagere", "participants"), ("deltagere", "participants"), ("til stede", "participants"),
    ("tilstede", "participants"), ("medlemmer", "participants"), ("fremmødte", "participants"),
    ("deltagende medlemmer", "participants"), ("stedfortræder", "participants"),
    ("stedfortrædere", "participants"), ("suppleant", "participants"), ("suppleanter", "participants"),
    ("afbud/fraværende", "absent"), ("fraværende/afbud", "absent"), ("fraværende", "absent"),
    ("afbud", "absent"), ("ikke til stede", "absent"), ("fravær", "absent"), ("afbud fra", "absent"),
    ("fraværende med afbud", "absent"), ("meldt afbud", "absent"), ("forfald", "absent"),
    ("sluttidspunkt", "ignore"), ("mødeslut", "ignore"), ("referent", "ignore"), ("sekretær", "ignore"),
    ("mødeleder", "ignore"), ("formand", "ignore"),
    # e-mail headers of minutes sent by mail: the subject is the title line, the rest is no meeting data
    ("emne", "title"), ("vedr.", "title"), ("fra", "mail"), ("sendt", "mail"), ("til", "mail"), ("cc", "mail"),
    ("bemærkninger", "ignore"), ("sagsbehandler", "ignore"),
)
# Labels whose value may follow without a colon on the same line (the FirstAgenda header style);
# the others need `Label:` or the value alone on the next line, because they are ordinary words.
BARE_HEADER_LABELS: Final = frozenset(
    {"mødedato", "mødetidspunkt", "mødested", "mødedeltagere", "udvalg", "deltagere", "fraværende", "afbud",
     "afbud/fraværende", "fraværende/afbud", "tilstede", "til stede", "sted", "dato", "mødetid", "tidspunkt",
     "starttidspunkt", "mødestart"}
)
# Words that end a committee name (`Arbejdsmarkedsudvalget`, `Byrådet`, `Økonomiudvalget`).
COMMITTEE_WORD: Final = re.compile(
    r"(?:udvalg(?:et)?|byråd(?:et)?|kommunalbestyrelse(?:n)?|magistrat(?:en)?|borgerrepræsentation(?:en)?|"
    r"råd(?:et)?|bestyrelse(?:n)?|direktion(?:en)?|forum|forummet|nævn(?:et)?|komité(?:en)?|"
    r"regionsråd(?:et)?)s?\b",
    re.I,
)
# Term suffixes on committee names: `_2018-21`, ` - 2022-2025`, ` (2018-2021)`.
TERM_SUFFIX: Final = re.compile(r"\s*(?:[_\-–]\s*|\s)\(?(?:19|20)\d{2}\s*[-–/]\s*(?:19|20)?\d{2}\)?\s*$")

# --- Page furniture and noise --------------------------------------------------------------------
# `12/900` is no page number here: Acadre case numbers look the same (`22/1001`).
PAGE_NUMBER: Final = re.compile(
    r"^(?:(?:side|page|s\.)\s*\d{1,4}(?:\s*(?:af|of|/|ud\s+af)\s*\d{1,4})?|\d{1,4}\s*(?:af|of)\s*\d{1,4}|"
    r"-\s*\d{1,4}\s*-)$",
    re.I,
)
TOC_HEADING: Final = re.compile(r"^(?:indholdsfortegnelse|indhold|oversigt\s+over\s+punkter|dagsordenoversigt)\s*:?$",
                                re.I)
# A contents line: dot leaders, or a tab/run of spaces before a page number.
# (`normalize.is_toc_tail` tests for the leaders and the tab first: keep the two in step.)
TOC_LINE: Final = re.compile(r"(?:\.{4,}|…{2,}|(?:\. ){3,})\s*\d{0,4}\s*$|\t\s*\d{1,4}\s*$")
# Buttons and navigation of agenda portals (`Hent som PDF`, `Kopier link`).
NAV_NOISE: Final = frozenset(
    {"hent som pdf", "download som pdf", "download pdf", "kopier link", "kopiér link", "del", "del på facebook",
     "print", "udskriv", "tilbage", "tilbage til oversigten", "gå til indhold", "spring til indhold", "menu",
     "søg", "log ind", "abonnér", "abonner", "luk", "vis mere", "vis mindre", "til toppen", "til top",
     "forrige", "næste", "forrige møde", "næste møde", "hent dagsorden", "hent referat", "vis bilag",
     "åbn", "åbn bilag", "fold ud", "fold sammen", "cookies", "accepter", "accepter cookies", "læs mere",
     "hent", "pdf", "vælg udvalg", "vælg møde", "alle udvalg", "politiske udvalg", "dagsordener og referater",
     "forside", "kontakt", "følg os", "bilag (pdf)", "[pdf]", "kopier link til punktet", "link til punktet",
     "del punktet", "print punktet",
     # site chrome of municipal pages: language switch, cookie banner, footer, top menu
     "english", "in english", "dansk", "accepter alle", "afvis", "afvis alle", "tillad alle", "cookieindstillinger",
     "privatlivspolitik", "cookiepolitik", "tilgængelighedserklæring", "kontakt os", "sitemap", "lyt", "læs op",
     "politik", "borger", "erhverv", "om kommunen", "nyheder", "selvbetjening"}
)
# Letterheads and footers naming the municipality with its address, on a line of their own:
# `Syddjurs Kommune · Lundbergsvej 2 · 8400 Ebeltoft`, `LOLLAND KOMMUNE`. They say who, not what was
# decided, so they leave the text (an item's decision would swallow them) and only name the municipality.
# The tail must hold a digit (postcode, phone): `Hjørring Kommune - Byrådet` is a title.
# (`normalize.split_trailer` looks for `ommune`/`OMMUNE` before trying it: keep it case-sensitive, or change both.)
LETTERHEAD: Final = re.compile(
    r"^(?:[A-ZÆØÅ][^\W\d_]{1,30}(?:-[A-ZÆØÅ][^\W\d_]{1,30})?\s){1,2}(?:Kommune|KOMMUNE|Regionskommune|REGIONSKOMMUNE)"
    r"(?P<tail>\s*[,·|•–-]\s*[^\n]{1,160})?$"
)
# A closing salutation near the end of an e-mail or letter: what follows is a signature.
CLOSINGS: Final = frozenset(
    {"med venlig hilsen", "venlig hilsen", "med venlige hilsner", "venlige hilsner", "mvh", "med venlig hilsen,",
     "de bedste hilsner", "bedste hilsner", "hilsen"}
)
# Lines that carry nothing: stray dots and dashes left by templates (`BESLUTNING` / `.`).
# (`normalize.content_blocks` tries it only on lines of three characters at most.)
FILLER: Final = re.compile(r"^[.\-–—_•·*]{1,3}$")
