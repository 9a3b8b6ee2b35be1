"""Webhook URL checks: scheme, credentials, non-global addresses (services/alerts/urls.py; every range in
tests/unit/test_urlsafety.py)."""

from __future__ import annotations

import pytest

from services.alerts.subscriptions import SubscriptionSpec, new_secret
from services.alerts.urls import UrlRefused, check_webhook_url, redact


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/hook", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http://user:secret@example.com/hook", "credentials"),
        ("https://token@example.com/hook", "credentials"),
        ("http://127.0.0.1:8080/hook", "127.0.0.1"),
        ("http://localhost/hook", "loopback"),
        ("http://10.1.2.3/hook", "10.1.2.3"),
        ("http://192.168.0.10/hook", "private"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),
        ("http://[::1]/hook", "::1"),
        ("http://[::ffff:127.0.0.1]/hook", "IPv4-mapped 127.0.0.1, loopback"),
        ("http://0.0.0.0/hook", "0.0.0.0"),
        ("http:///nohost", "no host"),
    ],
)
async def test_refused(url: str, reason: str) -> None:
    with pytest.raises(UrlRefused) as caught:
        await check_webhook_url(url, allow_private=False)
    assert reason in str(caught.value)


async def test_a_public_address_is_taken_and_loopback_only_when_allowed() -> None:
    await check_webhook_url("https://93.184.216.34/hook", allow_private=False)
    await check_webhook_url("http://127.0.0.1:9/hook", allow_private=True)
    with pytest.raises(UrlRefused):
        await check_webhook_url("ftp://127.0.0.1/hook", allow_private=True)  # allowing private keeps the scheme rule


def test_apprise_urls_are_shown_without_their_secrets() -> None:
    shown = redact("mailto://me:hunter2@mail.example.com?to=a@b.c")
    assert "hunter2" not in shown and shown.startswith("mailto://mail.example.com")
    assert redact("slack://TOKENA/TOKENB/TOKENC") == "slack://…"
    assert redact("https://example.com/hook") == "https://example.com/hook"


def test_secrets_are_standard_webhooks_secrets() -> None:
    import base64

    a, b = new_secret(), new_secret()
    assert a != b and a.startswith("whsec_") and len(base64.b64decode(a[6:])) == 32


def test_a_digest_is_for_people() -> None:
    with pytest.raises(ValueError, match="digest"):
        SubscriptionSpec(channel="webhook", url="https://example.com/h", digest="daily")
