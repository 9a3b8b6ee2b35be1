"""A notification a person can read (issue 23): Apprise's json:// to a real HTTP receiver on loopback, in the
subscription's language, naming the municipality, committee and outcome, with a link to the decision under
MINUTES_PUBLIC_URL — and that link, served by a reverse proxy that maps the public address onto the running
API, opens the decision on its meeting page."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncEngine

from services.alerts.subscriptions import SubscriptionSpec, add_subscription
from shared.settings import Settings
from tests.integration.alerts.conftest import Receiver, running_stack, wait_for
from tests.integration.api.server import running_api
from tests.unit.store.factories import header, item, meeting

pytestmark = pytest.mark.integration

PUBLIC = "https://referater.example.dk/byraad/"


def _message(receiver: Receiver, path: str) -> dict[str, str]:
    """The JSON body Apprise's json:// plugin POSTed (title and message)."""
    got = receiver.on(path)
    assert len(got) == 1, f"{len(got)} notifications on {path}"
    body: dict[str, str] = json.loads(got[0].body)
    return body


async def test_a_notification_is_danish_names_the_municipality_and_links_to_the_decision(
    alerts_settings: Settings,
    engine: AsyncEngine,
    redis_client: aioredis.Redis,
    receiver: Receiver,
    database_url: str,
    tmp_path: Path,
) -> None:
    settings = Settings(**{**alerts_settings.model_dump(), "public_url": PUBLIC.rstrip("/")}, _env_file=None)
    assert settings.page_url == PUBLIC  # kept with one trailing slash, whatever was given
    async with running_stack(settings, engine, redis_client) as stack:
        hook = f"json://127.0.0.1:{receiver.port}"
        danish = SubscriptionSpec(channel="apprise", url=f"{hook}/da", committee="Teknik- og Miljøudvalget")
        english = SubscriptionSpec(
            channel="apprise", url=f"{hook}/en", committee="Teknik- og Miljøudvalget", language="en"
        )
        await add_subscription(engine, danish, allow_private=True)
        await add_subscription(engine, english, allow_private=True)
        decided = item(4, title="Trafiksikkerhed ved skolen", text="Udvalget godkendte hastighedsdæmpningen.")
        hdr = header(municipality="Vejle", committee="Teknik- og Miljøudvalget")
        await stack.publish(meeting("readable", items=[item(1), item(2), item(3), decided], hdr=hdr))
        await wait_for(lambda: len(receiver.requests) >= 8, limit_s=30, what="eight notifications")

    da = [json.loads(r.body) for r in receiver.on("/da")]
    first = next(m for m in da if "Trafiksikkerhed" in m["title"])
    assert first["title"] == "Vejle Kommune · Teknik- og Miljøudvalget: 4. Trafiksikkerhed ved skolen"
    lines = first["message"].splitlines()
    assert lines[:3] == ["Ny afgørelse: Godkendt", "Vejle Kommune", "Teknik- og Miljøudvalget"]
    assert "Udvalget godkendte hastighedsdæmpningen." in lines
    link = lines[-1].removeprefix("Se afgørelsen: ")
    assert link.startswith(PUBLIC + "meetings/") and "minutes://" not in first["message"]

    en = next(json.loads(r.body) for r in receiver.on("/en") if "Trafiksikkerhed" in json.loads(r.body)["title"])
    assert en["title"] == "Vejle Municipality · Teknik- og Miljøudvalget: 4. Trafiksikkerhed ved skolen"
    assert en["message"].startswith("New decision: Approved\n") and en["message"].endswith(f"See the decision: {link}")

    # The link opens the decision: its path and anchor, served by the API behind the public address.
    parts = urlsplit(link)
    local_path = parts.path.removeprefix(urlsplit(PUBLIC).path.rstrip("/"))
    with running_api(Settings(database_url=database_url, data_dir=tmp_path / "api", _env_file=None)) as base:
        async with httpx.AsyncClient(timeout=30) as client:
            page = await client.get(base.rstrip("/") + local_path)
    assert page.status_code == 200
    anchor = f'id="{parts.fragment}"'
    assert anchor in page.text
    after = page.text[page.text.index(anchor) :]
    assert "Trafiksikkerhed ved skolen" in after[:2000] and "hastighedsdæmpningen" in after


def test_without_a_public_url_links_open_on_this_machine() -> None:
    local = Settings(_env_file=None, api_host="0.0.0.0", api_port=8123)
    assert local.page_url == "http://127.0.0.1:8123/"
    assert Settings(_env_file=None, public_api_url="https://api.example.dk/x").page_url == "https://api.example.dk/x/"
    with pytest.raises(ValueError, match="https://"):
        Settings(_env_file=None, public_url="referater.example.dk")
