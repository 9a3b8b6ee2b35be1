"""Checks of a subscription's channel URL before it is stored (the rule itself: shared/urlsafety.py).

A webhook URL must be http(s), carry no credentials, and its host must not resolve to a non-global address
(so a subscriber cannot make the worker probe the network it runs in) unless `MINUTES_ALLOW_PRIVATE_URLS` is
set. An Apprise URL must be one Apprise understands and, when the service it names posts to a host of the
subscriber's choosing (json://, form://, xml://, mailto://, gotify://, ntfy:// on a server, matrix://, …),
that host is checked the same way. Checking here is for a clear answer at once; what protects is the check at
delivery, on the address each connection uses (services/alerts/pinned.py for webhooks, shared/connect_guard.py
for Apprise): a name that resolved to a public address at registration may point inward later.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from shared.urlsafety import (
    HostUnresolved,
    Resolver,
    UrlRefused,
    check_http_url,
    checked_addresses,
    http_target,
    system_resolver,
)

__all__ = [
    "Resolver",
    "UrlRefused",
    "check_apprise_url",
    "check_webhook_shape",
    "check_webhook_url",
    "checked_addresses",
    "redact",
    "system_resolver",
]

# Apprise services whose library does its network work in a thread of its own (slixmpp's event loop, paho's
# network loop, which reconnects by itself): those connections are outside the context the connect guard
# watches, so these services cannot be held to the rule and are refused unless private addresses are allowed.
UNGUARDED_SCHEMES = frozenset({"xmpp", "xmpps", "mqtt", "mqtts"})


def check_webhook_shape(url: str) -> tuple[str, int]:
    """Scheme, credentials and host of a webhook URL; returns (host, port)."""
    return http_target(url, what="webhook")


async def check_webhook_url(url: str, *, allow_private: bool, resolver: Resolver = system_resolver) -> None:
    """Refuse a webhook URL by its shape, or because its host resolves to a non-global address."""
    await check_http_url(url, allow_private=allow_private, resolver=resolver, what="webhook")


def _hosts(plugin: Any) -> list[tuple[str, int]]:
    """The hosts an Apprise service would connect to that the subscriber chose: (host, port) pairs.

    A service whose URL has a host slot (its templates name `{host}`) posts there; for the others the URL's
    "host" is a token and the service posts to its own public API (slack://, tgram://, …). An e-mail service
    may name its SMTP server apart (`smtp=`)."""
    templates = getattr(type(plugin), "templates", ()) or ()
    if not any("{host}" in template for template in templates):
        return []
    port = int(getattr(plugin, "port", None) or 0)
    hosts = [(str(getattr(plugin, "host", "") or ""), port)]
    smtp = getattr(plugin, "smtp_host", None)
    if smtp:
        hosts.append((str(smtp), port))
    return [(host.strip("[]"), port) for host, port in hosts if host]


def _token_allowed(plugin: Any) -> bool:
    # Some services take either a host or a token in the same place (ntfy://topic, matrix://token): a name that
    # does not resolve may be a token there, and connects nowhere we chose.
    return any("{host}" not in template for template in getattr(type(plugin), "templates", ()) or ())


async def check_apprise_url(url: str, *, allow_private: bool, resolver: Resolver = system_resolver) -> None:
    """Refuse a URL Apprise does not understand, or whose host (where the subscriber chooses it) is not global."""
    import apprise

    scheme = urlsplit(url).scheme.lower()
    if scheme in UNGUARDED_SCHEMES and not allow_private:
        raise UrlRefused(
            f"{scheme}:// notifications connect from a thread of their own, where the address rule cannot "
            "follow them (set MINUTES_ALLOW_PRIVATE_URLS=true to allow them)"
        )
    plugin = apprise.Apprise.instantiate(url)
    if not plugin:
        raise UrlRefused("Apprise does not understand this URL (see https://github.com/caronc/apprise/wiki)")
    if allow_private:
        return
    for host, port in _hosts(plugin):
        try:
            await checked_addresses(host, port, allow_private=False, resolver=resolver, what="notification host")
        except HostUnresolved:
            if not _token_allowed(plugin):
                raise


def redact(url: str) -> str:
    """A channel URL safe to show and log: Apprise URLs carry passwords and tokens, so only scheme and host."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    if parts.scheme in ("http", "https") and parts.username is None:
        return url
    host = parts.hostname or ""
    # A server name (mail.example.com, an address) is shown; a bare word in its place is often a token
    # (slack://TOKENA/…, ntfy://topic), so it is not.
    shown = host if ("." in host or ":" in host) else "…"
    return f"{parts.scheme}://{shown}{'/…' if shown != '…' and (parts.path.strip('/') or parts.query) else ''}"
