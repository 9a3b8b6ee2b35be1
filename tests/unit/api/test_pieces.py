"""The API's pure parts: download names, filters from query strings, languages, snippets, the vendored htmx."""

from __future__ import annotations

import base64
import hashlib
import re
from email.message import Message
from pathlib import Path
from urllib.parse import unquote

import pytest

from services.api import i18n
from services.api.download import content_disposition
from services.api.errors import ApiError
from services.api.filters import build_filter, query_of
from services.api.web import STATIC, htmx_integrity, snippet_html
from shared.contracts.meeting import Outcome

DIGEST = "ab" * 32


def _filename_star(header: str) -> str:
    star = re.search(r"filename\*=UTF-8''(\S+)", header)
    assert star, header
    return unquote(star.group(1), encoding="utf-8", errors="strict")


@pytest.mark.parametrize(
    ("name", "exact", "fallback"),
    [
        ("referat.pdf", "referat.pdf", "referat.pdf"),
        ("Økonomiudvalget – referat.pdf", "Økonomiudvalget – referat.pdf", "Okonomiudvalget _ referat.pdf"),
        ('a"b;c\\d/e.txt', "e.txt", "e.txt"),
        ("line\r\nbreak.txt", "line__break.txt", "line__break.txt"),
    ],
)
def test_content_disposition_keeps_the_name_and_a_safe_ascii_fallback(name: str, exact: str, fallback: str) -> None:
    header = content_disposition(name, DIGEST)
    assert header.isascii() and "\r" not in header and "\n" not in header
    assert _filename_star(header) == exact
    msg = Message()
    msg["Content-Disposition"] = header
    assert msg.get_param("filename", header="content-disposition") == fallback


def test_a_name_with_undecodable_bytes_downloads_with_its_letters() -> None:
    # Bytes that are not UTF-8 (a Latin-1 name from a Windows share) arrive as lone surrogates.
    name = b"m\xf8de-referat.pdf".decode("utf-8", "surrogateescape")
    header = content_disposition(name, DIGEST)
    assert header.isascii()
    assert _filename_star(header) == "møde-referat.pdf"  # strict UTF-8: no surrogate leaked into the header


def test_a_name_stored_with_escaped_bytes_is_not_cut_at_its_backslashes() -> None:
    # How the ingest stored such a name before (issue 22): clients took each `\` for a folder and saved
    # `xf8_2024.txt`.
    header = content_disposition("Referat_Byr\\xe5d_\\xe6\\xf8_2024.txt", DIGEST)
    assert _filename_star(header) == "Referat_Byråd_æø_2024.txt"
    assert 'filename="Referat_Byrad_aeo_2024.txt"' in header
    assert _filename_star(content_disposition("a\\b.txt", DIGEST)) == "a_b.txt"


def test_an_empty_or_dotted_name_falls_back_to_the_digest() -> None:
    for name in ("", "..", " . "):
        assert _filename_star(content_disposition(name, DIGEST)) == f"{DIGEST[:16]}.bin"


def test_filters_from_a_form_ignore_empty_fields_and_name_bad_ones() -> None:
    flt = build_filter({"q": " fleksjob ", "municipality": "", "date_from": "2023-01-02", "outcome": "approved"})
    assert flt.q == "fleksjob" and flt.municipality is None
    assert flt.date_from is not None and flt.date_from.isoformat() == "2023-01-02"
    assert flt.outcome is Outcome.APPROVED
    for raw, needle in (
        ({"date_from": "2023/01/02"}, "date_from: '2023/01/02' is not a date"),
        ({"date_from": "31-02-2023"}, "date_from: '31-02-2023' is not a date"),
        ({"date_to": "2023-13-01"}, "date_to:"),
        ({"outcome": "won"}, "outcome: 'won' is not one of approved"),
        ({"date_from": "2024-01-01", "date_to": "2023-01-01"}, "date_from is after date_to"),
        ({"kle": "1234"}, "kle:"),
        ({"q": "x" * 501}, "q: longer than 500"),
    ):
        with pytest.raises(ApiError) as caught:
            build_filter(raw)
        assert caught.value.status == 400
        assert needle in caught.value.message, caught.value.message


def test_query_of_reproduces_the_filter() -> None:
    flt = build_filter({"q": "a b", "committee": "Økonomi", "outcome": "noted", "date_to": "2024-05-01"})
    query = query_of(flt, cursor="C1")
    again = build_filter(dict(pair.split("=") for pair in unquote(query.replace("+", " ")).split("&")))
    assert again == flt
    assert query.endswith("cursor=C1")


@pytest.mark.parametrize(
    ("asked", "header", "expected"),
    [
        ("en", "da", "en"),
        (None, "en-GB,en;q=0.9", "en"),
        (None, "de-DE, en;q=0.5, da;q=0.8", "da"),
        (None, None, "da"),
        ("fr", "fr", "da"),
        (None, "en;q=bad, da;q=0.1", "da"),
    ],
)
def test_language_choice(asked: str | None, header: str | None, expected: str) -> None:
    assert i18n.pick_language(asked, header) == expected


def test_a_text_without_one_of_its_languages_cannot_be_built() -> None:
    assert i18n.LANGUAGES == ("da", "en") and i18n.DEFAULT in i18n.LANGUAGES
    with pytest.raises(TypeError):
        i18n.Text(da="Referater")  # type: ignore[call-arg]


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_text_exists_in_every_language(lang: str) -> None:
    t = i18n.translator(lang)
    # The public lookup shows the key itself where a text is missing, so a gap (or an empty text) shows here.
    missing = [key for key in i18n.CATALOG if not t(key).strip() or t(key) == key]
    assert missing == []
    assert len(i18n.MONTHS) == 12 and all(month.of(lang).strip() for month in i18n.MONTHS)
    for outcome in Outcome:
        assert f"outcome_{outcome.value}" in i18n.CATALOG


def test_every_text_a_template_uses_is_in_the_catalog() -> None:
    used = set()
    for template in (STATIC.parent / "templates").glob("*.html"):
        used |= set(re.findall(r"""\bt\(["']([a-z_]+)["']\s*[,)]""", template.read_text(encoding="utf-8")))
    assert used, "no texts found: the pattern no longer matches the templates"
    assert used - set(i18n.CATALOG) == set()


def test_snippet_keeps_only_mark_tags() -> None:
    out = str(snippet_html("før <mark>fleksjobbet</mark> &amp; <script>alert(1)</script>"))
    assert "<mark>fleksjobbet</mark>" in out
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert "&amp;" in out and "&amp;amp;" not in out


def test_vendored_htmx_matches_its_recorded_hashes() -> None:
    versions = (STATIC / "VERSIONS.md").read_text(encoding="utf-8")
    data = (STATIC / "htmx.min.js").read_bytes()
    assert hashlib.sha256(data).hexdigest() in versions
    sri = "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()
    assert sri == htmx_integrity() and sri in versions
    version = re.search(r'version:"(2\.\d+\.\d+)"', data.decode())
    assert version and f"| {version.group(1)} |" in versions


def test_base_template_loads_htmx_with_its_integrity() -> None:
    base = Path(STATIC.parent / "templates" / "base.html").read_text(encoding="utf-8")
    assert 'src="/static/htmx.min.js" integrity="{{ htmx_integrity() }}"' in base


def test_vendored_swagger_ui_matches_its_recorded_hashes() -> None:
    from services.api.apidocs import integrity

    versions = (STATIC / "VERSIONS.md").read_text(encoding="utf-8")
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        data = (STATIC / name).read_bytes()
        row = next(line for line in versions.splitlines() if line.startswith(f"| `{name}` |"))
        assert hashlib.sha256(data).hexdigest() in row
        sri = "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()
        assert sri == integrity(name) and sri in row
    bundle = (STATIC / "swagger-ui-bundle.js").read_text(encoding="utf-8")
    version = re.search(r'PACKAGE_VERSION:"(\d+\.\d+\.\d+)"', bundle)
    assert version and f"| {version.group(1)} |" in versions


def test_the_docs_page_names_only_files_of_this_server() -> None:
    from services.api.apidocs import SCRIPTS, STYLES, docs_html

    html = docs_html("t", "/openapi.json")
    refs = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert sorted(refs) == sorted([f"/static/{n}" for n in (*STYLES, *SCRIPTS)] + ["/openapi.json"])
    assert "://" not in html and "<script>" not in html  # no other host, no inline script
