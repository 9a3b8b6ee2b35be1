"""Apprise notifications to a local mail catcher (aiosmtpd): one message per decision, or a digest; and
case following: a subscription on a case number fires for every body on the case's path."""

from __future__ import annotations

import datetime as dt

import pytest
from standardwebhooks import Webhook

from services.alerts.case_path import case_path
from services.alerts.subscriptions import SubscriptionSpec, add_subscription, get_subscription
from services.alerts.worker import send_digests
from shared.contracts.meeting import AgendaItem, Decision, EarlierDecision, Outcome
from tests.integration.alerts.conftest import MailCatcher, Receiver, Stack, wait_for
from tests.unit.store.factories import header, item, meeting

pytestmark = pytest.mark.integration


async def test_a_notification_per_decision_reaches_the_mailbox(stack: Stack, mail_catcher: MailCatcher) -> None:
    spec = SubscriptionSpec(channel="apprise", url=mail_catcher.apprise_url, committee="Økonomiudvalget")
    sub = await add_subscription(stack.engine, spec, allow_private=True)
    assert sub.secret is None and "127.0.0.1" in sub.url
    first = item(1, title="Salg af grund ved havnen", text="Indstillingen blev godkendt med 7 stemmer.")
    await stack.publish(meeting("mail", items=[first], hdr=header(committee="Økonomiudvalget")))
    await stack.publish(meeting("not-mail", 1, hdr=header(committee="Kultur- og Fritidsudvalget")))

    await wait_for(lambda: len(mail_catcher.messages) >= 1, what="the mail")

    async def delivered() -> bool:
        shown = await get_subscription(stack.engine, sub.id)
        return shown is not None and shown.delivered == 1 and shown.pending == 0

    await wait_for(delivered, what="the delivery to be recorded")
    message = mail_catcher.messages[0]
    # Danish by default: where, which item, the outcome as the page shows it, a link that opens the decision.
    assert message["Subject"] == "Aarhus Kommune · Økonomiudvalget: 1. Salg af grund ved havnen"
    text = mail_catcher.text(message)
    assert "Ny afgørelse: Godkendt" in text and "godkendt med 7 stemmer" in text
    assert "Møde: 3. marts 2025" in text
    assert "minutes://" not in text and f"{stack.settings.page_url}meetings/" in text
    assert len(mail_catcher.messages) == 1


async def test_a_digest_sends_one_summary_of_several_decisions(stack: Stack, mail_catcher: MailCatcher) -> None:
    spec = SubscriptionSpec(channel="apprise", url=mail_catcher.apprise_url, digest="hourly", language="en")
    sub = await add_subscription(stack.engine, spec, allow_private=True)
    titles = ["Budget for vejvedligehold", "Ny cykelsti langs åen", "Takster for affald"]
    await stack.publish(meeting("digest", items=[item(n + 1, title=t) for n, t in enumerate(titles)]))

    async def waiting() -> bool:
        shown = await get_subscription(stack.engine, sub.id)
        return shown is not None and shown.pending == 3

    await wait_for(waiting, what="three decisions waiting for the digest")
    # Not due before the hour has passed: nothing is sent.
    assert await send_digests(stack.alerts) == 0
    assert mail_catcher.messages == []
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1, minutes=1)
    assert await send_digests(stack.alerts, now=later) == 1
    await wait_for(lambda: len(mail_catcher.messages) == 1, what="the digest mail")
    message = mail_catcher.messages[0]
    assert message["Subject"] == "3 new decisions (hourly digest)"  # the subscription asked for English
    text = mail_catcher.text(message)
    assert all(t in text for t in titles)
    assert "Aarhus Kommune · Økonomiudvalget: 1. Budget for vejvedligehold" in text and "Approved:" in text
    shown = await get_subscription(stack.engine, sub.id)
    assert shown is not None and shown.pending == 0 and shown.delivered == 3
    # Sent once: the next check has nothing waiting.
    assert await send_digests(stack.alerts, now=later + dt.timedelta(hours=2)) == 0


def _case_item(case: str, decision: str, history: tuple[EarlierDecision, ...] = ()) -> AgendaItem:
    return AgendaItem(
        number=1,
        title="Udbygning af skole i nordbyen",
        case_number=case,
        decision=Decision(text=decision, outcome=Outcome.APPROVED),
        history=history,
    )


async def test_a_case_subscription_fires_for_each_body_on_the_path(stack: Stack, receiver: Receiver) -> None:
    case = "24/123456"
    spec = SubscriptionSpec(channel="webhook", url=receiver.url("/case"), case_number=f" {case} ")
    sub = await add_subscription(stack.engine, spec, allow_private=True)
    steps = [
        ("Anlægsudvalget", dt.date(2025, 2, 3), "Anbefales over for Økonomiudvalget."),
        ("Økonomiudvalget", dt.date(2025, 2, 17), "Anbefales over for Byrådet."),
        ("Byrådet", dt.date(2025, 3, 1), "Godkendt."),
    ]
    earlier: list[EarlierDecision] = []
    for n, (body, day, text) in enumerate(steps):
        it = _case_item(case, text, tuple(earlier))
        await stack.publish(meeting(f"case-{n}", items=[it, item(2)], hdr=header(committee=body, day=day)))
        earlier.append(EarlierDecision(date=day, body=body, text=text))

    await wait_for(lambda: len(receiver.on("/case")) == 3, limit_s=30, what="one delivery per body")
    assert sub.secret is not None
    bodies = [Webhook(sub.secret).verify(r.body, r.headers) for r in receiver.on("/case")]
    assert [b["committee"] for b in bodies] == [s[0] for s in steps]
    assert {b["case_number"] for b in bodies} == {case}

    path = await case_path(stack.engine, case)
    assert path is not None
    assert path.bodies == ["Anlægsudvalget", "Økonomiudvalget", "Byrådet"]
    assert path.text == "Anlægsudvalget → Økonomiudvalget → Byrådet"
    assert [s.decision_text for s in path.steps] == [s[2] for s in steps]
    assert all(s.source == "item" for s in path.steps)  # each cited step is the stored item, not a second one


async def test_the_path_includes_steps_only_the_history_cites(stack: Stack) -> None:
    case = "25/000777"
    cited = (
        EarlierDecision(date=dt.date(2024, 11, 4), body="Teknisk Udvalg", text="Sagen udsat."),
        EarlierDecision(date=dt.date(2024, 12, 2), body="Teknisk Udvalg", text="Anbefalet."),
    )
    it = _case_item(case, "Godkendt.", cited)
    await stack.publish(meeting("cited", items=[it], hdr=header(committee="Byrådet", day=dt.date(2025, 1, 29))))
    path = await case_path(stack.engine, case)
    assert path is not None
    assert [(s.body, s.source) for s in path.steps] == [
        ("Teknisk Udvalg", "history"), ("Teknisk Udvalg", "history"), ("Byrådet", "item")
    ]
    assert path.bodies == ["Teknisk Udvalg", "Byrådet"]
    assert await case_path(stack.engine, "99/999999") is None
