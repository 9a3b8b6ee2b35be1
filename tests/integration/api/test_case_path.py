"""The case page shows the case's path across bodies (stored items plus the history they cite), on both stores."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis

from services.store.db import create_engine, migrate
from shared.contracts.meeting import EarlierDecision, Outcome
from tests.integration.api.live_helpers import live_settings, publish, serving
from tests.unit.store.factories import header, item, meeting

pytestmark = pytest.mark.integration
CASE = "00.01.02-A00-9-25"


async def test_the_case_page_shows_the_path_with_each_steps_date_and_decision(
    database_url: str, redis_url: str, redis_client: aioredis.Redis, tmp_path: Path
) -> None:
    await migrate(database_url)
    engine = create_engine(database_url)
    # The committee (AU-like) decided first; a later item of the finance committee cites that, and the council
    # decides last. The first body is also cited in the council's history: it stays one step.
    cited = EarlierDecision(date=dt.date(2025, 3, 3), body="Arbejdsudvalget", text="Anbefales over for udvalget.")
    # A step no stored document shows: known only from the history an item cites.
    unseen = EarlierDecision(date=dt.date(2025, 2, 3), body="Teknisk Udvalg", text="Sagen blev udsat.")
    first = item(1, text="Anbefales over for udvalget.").model_copy(update={"case_number": CASE})
    second = item(4, text="Indstillingen anbefales.").model_copy(update={"case_number": CASE, "history": (cited,)})
    third = item(7, text="Forslaget blev vedtaget.", outcome=Outcome.APPROVED).model_copy(
        update={"case_number": CASE, "history": (unseen, cited)}
    )
    try:
        for seed, body, day, it in (
            ("au", "Arbejdsudvalget", dt.date(2025, 3, 3), first),
            ("ok", "Økonomiudvalget", dt.date(2025, 3, 10), second),
            ("by", "Byrådet", dt.date(2025, 3, 24), third),
        ):
            m, items = meeting(f"path-{seed}", hdr=header(committee=body, day=day), items=[it])
            await publish(engine, redis_client, [m, *items])
    finally:
        await engine.dispose()
    settings = live_settings(database_url, redis_url, tmp_path / "data")
    with serving(settings) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            page = await client.get(f"/cases/{CASE}?lang=en")
    assert page.status_code == 200
    html = page.text
    assert "The case&#39;s path: Teknisk Udvalg → Arbejdsudvalget → Økonomiudvalget → Byrådet" in html
    section = html[html.index('class="case-path"') : html.index('class="case-items"')]
    steps = re.findall(r'<li class="path-step path-(\w+)">(.*?)</li>', section, re.S)
    # The cited AU decision is the stored AU item (one step); the unseen one is a cited step of its own.
    assert [kind for kind, _ in steps] == ["history", "item", "item", "item"]
    dates = [re.search(r'datetime="([^"]*)"', body).group(1) for _, body in steps]  # type: ignore[union-attr]
    assert dates == ["2025-02-03", "2025-03-03", "2025-03-10", "2025-03-24"]
    assert "Sagen blev udsat." in steps[0][1] and "cited by a later item" in steps[0][1]
    assert "Forslaget blev vedtaget." in steps[3][1] and "Indstillingen anbefales." in steps[2][1]
    assert "/meetings/" in steps[1][1] and "#item-0" in steps[1][1]
