"""Checks of a subscription's channel URL before it is stored, and of a webhook's host before each POST.

A webhook URL must be http(s), carry no credentials, and its host must not resolve to a private,
loopback, link-local or otherwise non-public address (so a subscriber cannot make the worker probe the
network it runs in) unless `MINUTES_WEBHOOK_ALLOW_PRIVATE` is set. The host is resolved again for every
connection a delivery opens, and the connection goes to the address that was checked
(services/alerts/pinned.py): a name that resolved to a public address at registration may point inward
later, and a second lookup by the HTTP client could answer differently from the one that was checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

# host, port -> the addresses (IP text) the name resolves to; raises OSError when it does not resolve.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


class UrlRefused(ValueError):
    """A channel URL that is refused; the message says why."""


def check_webhook_shape(url: str) -> tuple[str, int]:
    """Scheme, credentials and host of a webhook URL; returns (host, port)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused(f"not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise UrlRefused(f"only http and https webhook URLs are allowed, not {parts.scheme or 'none'!r}")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("a webhook URL must not contain credentials (user:password@); the signature authenticates")
    if not parts.hostname:
        raise UrlRefused("the webhook URL has no host")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def _non_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses of `host` from the system's resolver (an IP literal is its own address), in its order."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def checked_addresses(host: str, port: int, *, allow_private: bool, resolver: Resolver) -> list[str]:
    """Resolve `host` once and check every address; the addresses a connection may then use, in order.

    One non-public address refuses the name (unless allowed): a client choosing among them must not be
    steered to the inward one.
    """
    try:
        found = list(await resolver(host, port))
    except OSError as exc:
        raise UrlRefused(f"the webhook host {host!r} does not resolve: {exc}") from exc
    if not found:
        raise UrlRefused(f"the webhook host {host!r} resolves to no address")
    for text in found:
        address = ipaddress.ip_address(text.split("%", 1)[0])  # an IPv6 zone (`fe80::1%eth0`) is no part of it
        if not allow_private and _non_public(address):
            raise UrlRefused(
                f"the webhook host {host!r} resolves to {address}, a private, loopback or link-local address "
                "(set MINUTES_WEBHOOK_ALLOW_PRIVATE=true to allow it)"
            )
    return found


async def check_webhook_url(url: str, *, allow_private: bool, resolver: Resolver = system_resolver) -> None:
    """Refuse a webhook URL by its shape, or because its host resolves to a non-public address."""
    host, port = check_webhook_shape(url)
    if allow_private:
        return
    await checked_addresses(host, port, allow_private=False, resolver=resolver)


def check_apprise_url(url: str) -> None:
    """Refuse a URL Apprise does not understand."""
    import apprise

    if not apprise.Apprise().add(url):
        raise UrlRefused("Apprise does not understand this URL (see https://github.com/caronc/apprise/wiki)")


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
