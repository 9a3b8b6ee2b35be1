"""The Python API of subscriptions: what the CLI and the HTTP layer call.

    sub = await add_subscription(engine, SubscriptionSpec(channel="webhook", url=..., committee="Økonomi"),
                                 allow_private=settings.allow_private_urls)
    sub.secret               # whsec_…: shown once, here; never listed or logged
    await list_subscriptions(engine); await get_subscription(engine, sub.id)
    await disable_subscription(engine, sub.id, "reason"); await enable_subscription(engine, sub.id)
    await list_attempts(engine, sub.id); await remove_subscription(engine, sub.id)

Every function takes an AsyncEngine on the store's database (migrated to 0007_alerts_leases or later).
Bad input raises `SubscriptionError` with a message fit to show (the HTTP layer maps it to 422).
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import uuid
from typing import Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy.ext.asyncio import AsyncEngine

from services.alerts.fanout import bump_version
from services.alerts.matching import Filter
from services.alerts.models import attempts, deliveries, subscriptions
from services.alerts.positions import created_position
from services.alerts.urls import (
    Resolver,
    UrlRefused,
    check_apprise_url,
    check_webhook_url,
    redact,
    system_resolver,
)
from services.store.search import SearchSyntaxError
from shared.contracts.events import utcnow
from shared.contracts.meeting import Outcome

Channel = Literal["webhook", "apprise"]
Digest = Literal["none", "hourly", "daily"]
# The languages of the messages a person reads (services/alerts/messages.py); Danish unless asked.
Language = Literal["da", "en"]


class SubscriptionError(ValueError):
    """A subscription that cannot be stored as given (bad URL, bad phrase, digest on a webhook…)."""


class SubscriptionSpec(BaseModel):
    """What to follow and how to be told; every given filter field must hold."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(default="", max_length=200)
    municipality: str | None = None
    region: str | None = None
    committee: str | None = None
    outcome: Outcome | None = None
    case_number: str | None = None
    phrase: str | None = Field(default=None, description="Full-text query, the syntax of `minutes search`.")
    channel: Channel
    url: str = Field(description="Webhook URL (http/https) or an Apprise URL.")
    digest: Digest = Field(default="none", description="Apprise only: one message per decision, or a summary.")
    language: Language = Field(
        default="da", description="Language of the notifications a person reads (Apprise): Danish or English."
    )

    @model_validator(mode="after")
    def _digest_for_people(self) -> SubscriptionSpec:
        if self.channel == "webhook" and self.digest != "none":
            raise ValueError("a digest is for Apprise notifications; a webhook gets every event")
        return self


class Subscription(BaseModel):
    """A stored subscription as shown: the URL redacted for Apprise, never the secret."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    created_at: dt.datetime
    municipality: str | None
    region: str | None
    committee: str | None
    outcome: str | None
    case_number: str | None
    phrase: str | None
    channel: Channel
    url: str
    digest: Digest
    language: Language = "da"
    enabled: bool
    disabled_at: dt.datetime | None
    disabled_reason: str | None
    consecutive_failures: int
    pending: int = Field(
        default=0,
        description="Deliveries kept waiting: a failed one for its retry and those queued behind it, replays, "
        "decisions for the digest. Events not yet read from the stream are not counted (see `position`).",
    )
    delivered: int = Field(default=0, description="Deliveries that went.")
    last_delivered_at: dt.datetime | None = None
    position: str | None = Field(
        default=None,
        description="The first public-stream entry id the subscription has not read yet (its cursor).",
    )

    @property
    def filter(self) -> Filter:
        """The matching filter of this subscription."""
        return Filter(self.municipality, self.region, self.committee, self.outcome, self.case_number, self.phrase)


class CreatedSubscription(Subscription):
    """The answer to `add_subscription`: the only time the webhook secret is shown."""

    secret: str | None = Field(description="whsec_… (Standard Webhooks) for a webhook; None for Apprise.")


class Attempt(BaseModel):
    """One attempt of a delivery that kept state: a failure, its retries, a replay, a digest (a delivery
    that succeeded at once is counted on its subscription instead)."""

    model_config = ConfigDict(frozen=True)

    delivery_id: int
    event_id: str
    attempted_at: dt.datetime
    ok: bool
    status_code: int | None
    error: str | None
    duration_ms: float
    replay: bool


def new_secret() -> str:
    """A Standard Webhooks endpoint secret: `whsec_` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _blank(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


async def add_subscription(
    engine: AsyncEngine, spec: SubscriptionSpec, *, allow_private: bool, resolver: Resolver = system_resolver
) -> CreatedSubscription:
    """Validate and store a subscription; it receives events published from now on (see replay).

    Private and loopback hosts (of webhooks, and of Apprise URLs that name a host) only with `allow_private`
    (MINUTES_ALLOW_PRIVATE_URLS). `resolver` looks the host up (tests pass one they control)."""
    phrase = _blank(spec.phrase)
    try:
        Filter(phrase=phrase)
    except SearchSyntaxError as exc:
        raise SubscriptionError(f"the phrase cannot match: {exc}") from exc
    try:
        if spec.channel == "webhook":
            await check_webhook_url(spec.url, allow_private=allow_private, resolver=resolver)
        else:
            await check_apprise_url(spec.url, allow_private=allow_private, resolver=resolver)
    except UrlRefused as exc:
        raise SubscriptionError(str(exc)) from exc
    sub_id = uuid.uuid4().hex[:16]
    secret = new_secret() if spec.channel == "webhook" else None
    now = utcnow()
    start = created_position(now)  # the events published from now on
    row = {
        "id": sub_id,
        "name": spec.name,
        "created_at": now,
        "next_ms": start[0],
        "next_seq": start[1],
        "delivered": 0,
        "municipality": _blank(spec.municipality),
        "region": _blank(spec.region),
        "committee": _blank(spec.committee),
        "outcome": spec.outcome.value if spec.outcome else None,
        "case_number": _blank(spec.case_number),
        "phrase": phrase,
        "channel": spec.channel,
        "url": spec.url,
        "secret": secret,
        "digest": spec.digest,
        "language": spec.language,
        "enabled": True,
        "consecutive_failures": 0,
    }
    async with engine.begin() as conn:
        await conn.execute(subscriptions.insert().values(**row))
        await bump_version(conn)
    shown = await get_subscription(engine, sub_id)
    assert shown is not None
    return CreatedSubscription(**shown.model_dump(), secret=secret)


def _waiting() -> sa.ScalarSelect[int]:
    return (
        sa.select(sa.func.count())
        .where(deliveries.c.subscription_id == subscriptions.c.id, deliveries.c.status.in_(("pending", "digest")))
        .scalar_subquery()
    )


_INTERNAL = ("secret", "last_digest_at", "leased_by", "leased_until", "next_ms", "next_seq")


def _shown(row: sa.Row[object]) -> Subscription:
    data = dict(row._mapping)
    ms, seq = data["next_ms"], data["next_seq"]
    for key in _INTERNAL:
        data.pop(key, None)
    data["url"] = redact(data["url"]) if data["channel"] == "apprise" else data["url"]
    data["position"] = f"{ms}-{seq}" if ms is not None else None
    return Subscription(**data)


def _select() -> sa.Select[object]:
    return sa.select(subscriptions, _waiting().label("pending"))


async def list_subscriptions(engine: AsyncEngine) -> list[Subscription]:
    """Every subscription, oldest first."""
    async with engine.connect() as conn:
        rows = (await conn.execute(_select().order_by(subscriptions.c.created_at, subscriptions.c.id))).all()
    return [_shown(r) for r in rows]


async def get_subscription(engine: AsyncEngine, subscription_id: str) -> Subscription | None:
    """One subscription, or None."""
    async with engine.connect() as conn:
        row = (await conn.execute(_select().where(subscriptions.c.id == subscription_id))).first()
    return _shown(row) if row is not None else None


async def remove_subscription(engine: AsyncEngine, subscription_id: str) -> bool:
    """Delete a subscription with its waiting and delivered rows and their attempts; False if there was
    none."""
    async with engine.begin() as conn:
        await conn.execute(attempts.delete().where(attempts.c.subscription_id == subscription_id))
        await conn.execute(deliveries.delete().where(deliveries.c.subscription_id == subscription_id))
        done = await conn.execute(subscriptions.delete().where(subscriptions.c.id == subscription_id))
        await bump_version(conn)
    return bool(done.rowcount)


async def disable_subscription(engine: AsyncEngine, subscription_id: str, reason: str) -> Subscription | None:
    """Stop delivering (waiting rows are kept, and the cursor stays: what the stream still holds from there
    goes at an enable); None if there is no such subscription."""
    async with engine.begin() as conn:
        await conn.execute(
            subscriptions.update()
            .where(subscriptions.c.id == subscription_id)
            .values(enabled=False, disabled_at=utcnow(), disabled_reason=reason)
        )
        await bump_version(conn)
    return await get_subscription(engine, subscription_id)


async def enable_subscription(engine: AsyncEngine, subscription_id: str) -> Subscription | None:
    """Deliver again, starting with what waited, at once; the failure count starts over."""
    now = utcnow()
    async with engine.begin() as conn:
        await conn.execute(
            subscriptions.update()
            .where(subscriptions.c.id == subscription_id)
            .values(enabled=True, disabled_at=None, disabled_reason=None, consecutive_failures=0)
        )
        await conn.execute(
            deliveries.update()
            .where(deliveries.c.subscription_id == subscription_id, deliveries.c.status == "pending")
            .values(next_attempt_at=now)
        )
        await bump_version(conn)
    return await get_subscription(engine, subscription_id)


async def list_attempts(engine: AsyncEngine, subscription_id: str, *, limit: int = 50) -> list[Attempt]:
    """The latest attempts of a subscription's deliveries that kept state (failures, their retries,
    replays, digests), newest first."""
    stmt = (
        sa.select(
            attempts.c.delivery_id,
            deliveries.c.event_id,
            attempts.c.attempted_at,
            attempts.c.ok,
            attempts.c.status_code,
            attempts.c.error,
            attempts.c.duration_ms,
            deliveries.c.replay,
        )
        .select_from(attempts.join(deliveries, deliveries.c.id == attempts.c.delivery_id))
        .where(attempts.c.subscription_id == subscription_id)
        .order_by(attempts.c.id.desc())
        .limit(limit)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    return [Attempt(**dict(r._mapping)) for r in rows]
