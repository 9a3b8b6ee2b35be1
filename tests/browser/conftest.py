"""Browser tests: Debian's headless Chromium driven by Playwright (no browser download at run time).

`.ci/run` installs the `chromium` package when it is missing; in CI (CI=true) a missing browser fails the
run instead of skipping it. Screenshots of every page are kept under `artifacts/browser/` (gitignored).
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from services.store.db import create_engine, migrate
from shared.blobs import LocalBlobStore
from shared.settings import Settings
from tests.integration.api.conftest import with_blobs
from tests.integration.api.server import running_api
from tests.integration.store.corpus_store import StoredDoc, corpus, fill
from tests.settings import TestSettings

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser"
DOCS_SHOTS = ROOT / "docs" / "screenshots"
WIDTHS = (1280, 390)


def chromium_or_fail() -> str:
    """The Chromium binary (MINUTES_TEST_CHROMIUM, else Debian's); missing: a failure in CI (where .ci/run
    installs it), a skip elsewhere."""
    asked = os.environ.get("MINUTES_TEST_CHROMIUM")
    found = asked if asked is None or Path(asked).exists() else None
    if asked is None:
        found = "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else shutil.which("chromium")
    if found:
        return found
    message = "Chromium not found: install Debian's package (`apt-get install -y chromium`; .ci/run does this)"
    if TestSettings().ci:
        pytest.fail(f"CI=true: {message}")
    pytest.skip(message)


@pytest.fixture(scope="module", autouse=True)
def _chromium_first() -> None:
    # Before the corpus is stored for the module: a missing browser is said at once.
    chromium_or_fail()


@dataclass
class Site:
    """The API serving a stored corpus."""

    base: str
    settings: Settings
    docs: tuple[StoredDoc, ...]


async def _fill(url: str, blobs: LocalBlobStore) -> tuple[StoredDoc, ...]:
    await migrate(url)
    engine = create_engine(url)
    try:
        return await fill(engine, with_blobs(blobs, corpus()))
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The seeds and the real corpus in SQLite (store code path, real blobs), served on a free loopback port."""
    data = tmp_path_factory.mktemp("site")
    url = f"sqlite+aiosqlite:///{data / 'minutes.db'}"
    settings = Settings(database_url=url, data_dir=data, api_page_size=5, _env_file=None)  # type: ignore[call-arg]
    docs = asyncio.run(_fill(url, LocalBlobStore(settings.blobs_dir)))
    with running_api(settings) as base:
        yield Site(base, settings, docs)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium for the module."""
    executable = chromium_or_fail()
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page (JavaScript on) that accepts downloads, in Danish unless the test asks otherwise."""
    context = browser.new_context(accept_downloads=True, locale="da-DK", viewport={"width": 1100, "height": 900})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def screenshot(page: Page, name: str, *, full_page: bool = True, docs: bool = False) -> Path:
    """A screenshot kept as a test artefact; the path is printed (pytest -s or -rA shows it). With `docs` and
    MINUTES_UPDATE_SCREENSHOTS=1 it is also written to docs/screenshots/ (the pictures the documentation
    shows), so an ordinary test run leaves the checked-in pictures alone."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    print(f"screenshot: {path}")
    if docs and os.environ.get("MINUTES_UPDATE_SCREENSHOTS") == "1":
        DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_SHOTS / path.name)
    return path


def documented(page: Page, name: str, *, full_page: bool = True) -> list[Path]:
    """The page at each of WIDTHS (desktop and phone) as `<name>-<width>`, for the documentation."""
    out = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        out.append(screenshot(page, f"{name}-{width}", full_page=full_page, docs=True))
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    return out
