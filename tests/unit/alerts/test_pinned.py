"""The pinned webhook client (services/alerts/pinned.py): one lookup per connection, every address checked,
the connection to a checked address; a resolver the test controls, a real socket on loopback."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Sequence

import pytest

from services.alerts.send import webhook_client
from services.alerts.urls import UrlRefused, checked_addresses


class Dns:
    """Fixed answers per name, counting lookups."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        self.asked.append(host)
        if host not in self.answers:
            raise OSError(f"no such name {host}")
        return self.answers[host]


@pytest.fixture
async def http_server() -> AsyncIterator[tuple[int, list[bytes]]]:
    """A bare HTTP/1.1 server on loopback answering 204 to anything; records each request head."""
    heads: list[bytes] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        heads.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield port, heads
    server.close()
    await server.wait_closed()


async def test_one_inward_address_among_public_ones_refuses_the_name() -> None:
    dns = Dns({"mixed.test": ["93.184.215.14", "10.0.0.7"], "mapped.test": ["::ffff:127.0.0.1"]})
    with pytest.raises(UrlRefused, match=re.escape("10.0.0.7")):
        await checked_addresses("mixed.test", 443, allow_private=False, resolver=dns)
    with pytest.raises(UrlRefused, match=re.escape("'mapped.test' resolves to ::ffff:127.0.0.1, IPv4-mapped 127.0")):
        await checked_addresses("mapped.test", 443, allow_private=False, resolver=dns)
    with pytest.raises(UrlRefused, match="does not resolve"):
        await checked_addresses("gone.test", 443, allow_private=False, resolver=dns)
    assert await checked_addresses("mixed.test", 443, allow_private=True, resolver=dns) == ["93.184.215.14", "10.0.0.7"]


async def test_the_client_connects_to_the_checked_address_and_keeps_the_name(
    http_server: tuple[int, list[bytes]],
) -> None:
    port, heads = http_server
    dns = Dns({"hook.test": ["127.0.0.1"]})
    async with webhook_client(2.0, allow_private=True, resolver=dns) as client:
        response = await client.post(f"http://hook.test:{port}/in", content=b"{}")
    assert response.status_code == 204
    assert dns.asked == ["hook.test"]  # one lookup: the one that was checked
    assert b"POST /in HTTP/1.1" in heads[0] and f"host: hook.test:{port}".encode() in heads[0].lower()


async def test_the_client_refuses_before_connecting(http_server: tuple[int, list[bytes]]) -> None:
    port, heads = http_server
    dns = Dns({"hook.test": ["127.0.0.1"]})
    async with webhook_client(2.0, allow_private=False, resolver=dns) as client:
        with pytest.raises(UrlRefused, match=re.escape("'hook.test' resolves to 127.0.0.1")):
            await client.post(f"http://hook.test:{port}/in", content=b"{}")
    assert heads == []
