"""The webhook client's connections go to the addresses that were checked, never to a second lookup's.

Checking a host and then letting the HTTP client resolve it again leaves a gap (DNS rebinding): a name
can answer with a public address to the check and with 127.0.0.1 to the connection. Here the lookup, the
check and the connection are one step: httpcore asks its network backend for a TCP connection to the
URL's host, and this backend resolves the name once (`shared.urlsafety.checked_addresses`, which refuses a
non-global address unless allowed) and connects to one of those addresses. Everything above the TCP connection still
sees the name: the `Host` header, TLS SNI and certificate verification are for the name, as without pinning.
A kept-alive connection is reused as it is: it goes to an address that was checked when it was opened.
"""

from __future__ import annotations

from collections.abc import Iterable

import httpcore
import httpx

from shared.urlsafety import Resolver, checked_addresses, system_resolver


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Resolves and checks the host of every new connection, then connects to a checked address."""

    def __init__(self, *, allow_private: bool, resolver: Resolver = system_resolver, what: str = "host") -> None:
        self._allow_private = allow_private
        self._resolver = resolver
        self._what = what
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's interface: it times the connect itself)
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """A connection to the first checked address of `host` that answers (UrlRefused when refused)."""
        addresses = await checked_addresses(
            host, port, allow_private=self._allow_private, resolver=self._resolver, what=self._what
        )
        error: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        assert error is not None  # checked_addresses returns at least one address
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's interface: it times the connect itself)
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("outbound requests go over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (TLS, HTTP/1.1, pooling) on a connection pool whose TCP connections are pinned."""

    def __init__(
        self,
        *,
        allow_private: bool,
        resolver: Resolver = system_resolver,
        limits: httpx.Limits | None = None,
        what: str = "host",
    ) -> None:
        super().__init__(trust_env=False)
        # httpx takes no network backend; its pool (nothing connected yet) is replaced by one with the same
        # defaults and httpx's own certificate store, which verifies the name. `network_backend` is httpcore's
        # public interface for this.
        limits = limits or httpx.Limits()
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(allow_private=allow_private, resolver=resolver, what=what),
        )
