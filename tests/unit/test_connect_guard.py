"""The connect guard (shared/connect_guard.py): inside a guarded scope, and in threads run with a copy of its
context as Apprise runs its senders, every socket connection to a non-global address is refused before it is
made; outside the scope (another task, the rest of the process) nothing changes. Real sockets on loopback."""

from __future__ import annotations

import asyncio
import contextvars
import socket
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from shared.connect_guard import ConnectRefused, guarded


class Listener:
    """A TCP listener on loopback that counts the connections it accepts."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.host, self.port = host, self.sock.getsockname()[1]

    def accepted(self) -> int:
        count = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                return count
            conn.close()
            count += 1


@pytest.fixture
def listener() -> Iterator[Listener]:
    one = Listener()
    yield one
    one.sock.close()


def _connect(host: str, port: int) -> None:
    with socket.create_connection((host, port), timeout=2):
        pass


def test_a_loopback_connection_is_refused_before_it_is_made(listener: Listener) -> None:
    with guarded(allow_private=False, what="notification") as scope, pytest.raises(ConnectRefused) as refused:
        _connect("127.0.0.1", listener.port)
    assert "the notification connects to 127.0.0.1, loopback (127.0.0.0/8)" in str(refused.value)
    assert "MINUTES_ALLOW_PRIVATE_URLS=true" in str(refused.value)
    assert scope.refused == [str(refused.value)]
    assert listener.accepted() == 0
    _connect("127.0.0.1", listener.port)  # outside the scope: untouched
    assert listener.accepted() == 1


def test_allowed_private_addresses_connect(listener: Listener) -> None:
    with guarded(allow_private=True) as scope:
        _connect("127.0.0.1", listener.port)
    assert listener.accepted() == 1 and scope.refused == []


def test_threads_run_with_the_context_are_guarded_as_apprise_runs_its_senders(listener: Listener) -> None:
    with guarded(allow_private=False) as scope, ThreadPoolExecutor(2) as pool:
        future = pool.submit(contextvars.copy_context().run, _connect, "127.0.0.1", listener.port)
        with pytest.raises(ConnectRefused):
            future.result(5)
    assert listener.accepted() == 0 and len(scope.refused) == 1


def test_other_tasks_are_not_guarded(listener: Listener) -> None:
    async def main() -> None:
        inside = asyncio.Event()
        done = asyncio.Event()

        async def guarded_task() -> None:
            with guarded(allow_private=False):
                inside.set()
                await done.wait()  # the scope stays open while the other task connects

        task = asyncio.create_task(guarded_task())
        await inside.wait()
        await asyncio.to_thread(_connect, "127.0.0.1", listener.port)  # a copy of *this* task's context
        _reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
        writer.close()
        done.set()
        await task

    asyncio.run(main())
    assert listener.accepted() == 2


def test_every_socket_kind_is_checked() -> None:
    with guarded(allow_private=False) as scope:
        v6 = Listener("::1")
        try:
            with pytest.raises(ConnectRefused, match=r"::1, loopback"):
                _connect("::1", v6.port)
        finally:
            v6.sock.close()
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        with udp, pytest.raises(ConnectRefused, match=r"10\.1\.2\.3, private"):
            udp.sendto(b"<14>hello", ("10.1.2.3", 514))
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp, pytest.raises(ConnectRefused, match="by name"):
            tcp.connect(("localhost", 9))  # Python would resolve the name after the check: refused
        with tempfile.TemporaryDirectory() as folder, socket.socket(socket.AF_UNIX) as unix:
            path = str(Path(folder) / "s")
            with pytest.raises(ConnectRefused, match="local socket"):
                unix.connect(path)
    assert len(scope.refused) == 4


def test_requests_sees_a_failed_connection_and_the_reason_is_kept(listener: Listener) -> None:
    hits: list[int] = []
    thread = threading.Thread(target=lambda: hits.append(listener.accepted()))
    with guarded(allow_private=False, what="notification") as scope, pytest.raises(requests.ConnectionError):
        requests.post(f"http://127.0.0.1:{listener.port}/hook", json={}, timeout=2)
    thread.start()
    thread.join()
    assert hits == [0]
    assert scope.refused and "127.0.0.1, loopback" in scope.refused[0]
