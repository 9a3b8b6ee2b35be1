"""The one rule for every address the system calls out to: webhooks, Apprise notifications, portal sources.

A URL someone gives (a subscription's channel, a source's portal) makes a worker open connections; without a
rule it could point the worker at the network it runs in: a cloud metadata service (169.254.169.254,
100.100.100.200), Redis on loopback, an admin page on the LAN. So every address a connection goes to must be
globally routable, unless `MINUTES_ALLOW_PRIVATE_URLS=true` (tests, a receiver on the same machine); nothing
else lifts the rule, and every process reads that one setting.

"Globally routable" is `ipaddress`'s `is_global` (IANA's special-purpose registries) made independent of the
Python version by an explicit table (3.11 still calls 192.0.0.8, 192.88.99.1, fec0::1 and 2002:7f00:1:: global),
stricter where the registries leave a gap (all of 192.0.0.0/24 and 2001::/23; any IPv6 address outside the
global unicast range 2000::/3), and with the addresses that wrap an IPv4 address judged by the address they
wrap, named in the reason: IPv4-mapped (::ffff:0:0/96) and NAT64 (64:ff9b::/96) go to their IPv4 address, so
they are what it is; 6to4 (2002::/16) and Teredo (2001::/32) are refused whatever they wrap.

The rule is checked on the addresses a connection will use, right before connecting: the webhook and portal
clients connect to the very address that was checked (services/alerts/pinned.py), and the libraries that
connect by themselves (Apprise) are watched at the socket (shared/connect_guard.py).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# The setting that allows non-global addresses; named in every refusal, so the reader knows the way out.
ALLOW_SETTING = "MINUTES_ALLOW_PRIVATE_URLS"

# host, port -> the addresses (IP text) the name resolves to; raises OSError when it does not resolve.
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


class UrlRefused(ValueError):
    """A URL or address the rule refuses; the message says why."""


class HostUnresolved(UrlRefused):
    """The host has no address (it does not resolve)."""


def _table(*rows: tuple[str, str]) -> tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...]:
    return tuple((ipaddress.ip_network(net), name) for net, name in rows)


# Not globally routable, by name (first match wins: the more specific ranges come first).
_IPV4 = _table(
    ("0.0.0.0/8", "this-network"),
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "shared address space (carrier-grade NAT)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("172.16.0.0/12", "private"),
    # IANA calls 192.0.0.9 and .10 global (anycast services); nobody has a webhook there, so the whole block.
    ("192.0.0.0/24", "IETF protocol assignments"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "6to4 relay anycast"),
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("255.255.255.255/32", "broadcast"),
    ("240.0.0.0/4", "reserved"),
)
_IPV6 = _table(
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/96", "IPv4-compatible (deprecated)"),
    ("64:ff9b:1::/48", "local-use NAT64"),
    ("100::/64", "discard-only"),
    ("2001::/32", "Teredo"),
    ("2001:db8::/32", "documentation"),
    ("2001::/23", "IETF protocol assignments"),
    ("2002::/16", "6to4"),
    ("3fff::/20", "documentation"),
    ("fc00::/7", "unique local (private)"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local (deprecated)"),
    ("ff00::/8", "multicast"),
)
_MAPPED = ipaddress.ip_network("::ffff:0:0/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")


def _named(address: IPAddress) -> str | None:
    table = _IPV4 if address.version == 4 else _IPV6
    for network, name in table:
        if address in network:
            return f"{name} ({network})"
    return None


def why_not_global(address: IPAddress | str) -> str | None:
    """None when `address` is globally routable; otherwise what it is ("loopback (127.0.0.0/8)", …)."""
    if isinstance(address, str):
        address = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone (`fe80::1%eth0`) is no part of it
    if isinstance(address, ipaddress.IPv6Address):
        inner: IPAddress | None = None
        if address in _MAPPED:
            inner, wrapper = address.ipv4_mapped, "IPv4-mapped"
        elif address in _NAT64:
            inner, wrapper = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF), "NAT64 (64:ff9b::/96)"
        if inner is not None:
            why = why_not_global(inner)
            return f"{wrapper} {inner}, {why}" if why else None
        named = _named(address)
        if named is not None:
            # Say what a wrapping address hides: "6to4 (2002::/16) wrapping 169.254.169.254".
            wrapped = address.sixtofour or (address.teredo[1] if address.teredo else None)
            return f"{named} wrapping {wrapped}" if wrapped is not None else named
        if address not in _GLOBAL_UNICAST:
            return f"outside the global unicast range ({_GLOBAL_UNICAST})"
    else:
        named = _named(address)
        if named is not None:
            return named
    # Whatever the running Python knows beyond the table (a range IANA adds later).
    return None if address.is_global else "not globally routable"


def refusal(host: str, address: str, why: str, what: str = "host") -> str:
    """The message of a refused address: what it is and how to allow it."""
    return f"the {what} {host!r} resolves to {address}, {why} (set {ALLOW_SETTING}=true to allow it)"


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses of `host` from the system's resolver (an IP literal is its own address), in its order."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def checked_addresses(
    host: str, port: int, *, allow_private: bool, resolver: Resolver, what: str = "host"
) -> list[str]:
    """Resolve `host` once and check every address; the addresses a connection may then use, in order.

    One non-global address refuses the name (unless allowed): a client choosing among them must not be
    steered to the inward one.
    """
    try:
        found = list(await resolver(host, port))
    except OSError as exc:
        raise HostUnresolved(f"the {what} {host!r} does not resolve: {exc}") from exc
    if not found:
        raise HostUnresolved(f"the {what} {host!r} resolves to no address")
    if not allow_private:
        for text in found:
            why = why_not_global(text)
            if why is not None:
                raise UrlRefused(refusal(host, text, why, what))
    return found


def http_target(url: str, *, what: str = "outbound") -> tuple[str, int]:
    """Scheme, credentials and host of an http(s) URL a worker will call; returns (host, port)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlRefused(f"not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise UrlRefused(f"only http and https {what} URLs are allowed, not {parts.scheme or 'none'!r}")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused(f"a {what} URL must not contain credentials (user:password@)")
    if not parts.hostname:
        raise UrlRefused(f"the {what} URL has no host")
    if port == 0:
        raise UrlRefused(f"the {what} URL has port 0")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


async def check_http_url(
    url: str, *, allow_private: bool, resolver: Resolver = system_resolver, what: str = "outbound"
) -> None:
    """Refuse an http(s) URL by its shape, or (unless allowed) because its host resolves to a non-global address.

    Checked when the URL is given; the connection checks again (DNS may have changed by then)."""
    host, port = http_target(url, what=what)
    if not allow_private:
        await checked_addresses(host, port, allow_private=False, resolver=resolver, what=f"{what} host")
