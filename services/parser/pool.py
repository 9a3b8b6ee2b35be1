"""Runs the pure parser in a child process: the event loop stays free, and a hang or crash is contained.

One child per worker, talked to over a pipe that the event loop watches directly (no executor threads:
`ProcessPoolExecutor`'s manager thread and wake-up pipe cost the worker a third of its CPU in profiles).
"""

from __future__ import annotations

import asyncio
import os
import pickle
import resource
from collections.abc import Callable
from multiprocessing import get_context
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from shared.contracts.meeting import ParsedMeeting
from shared.logging import get_logger

log = get_logger(__name__)

ParseTarget = Callable[[bytes, str | None], ParsedMeeting | bytes]

_OK, _ERR = b"o", b"e"


class ParseFailed(Exception):
    """The parse process hung past its time limit or died (crash, memory cap): retry, then dead-letter."""


def _parse(data: bytes, filename: str | None) -> bytes:
    from services.parser.core import parse_document

    # JSON crosses the process boundary faster than a pickled tree of pydantic models (measured ~30%).
    return parse_document(data, filename).model_dump_json().encode()


def _child(conn: Connection, target: ParseTarget, memory_mb: int) -> None:
    # An address-space cap turns a runaway parse into a MemoryError here, not an OOM kill of the worker.
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import services.parser.core  # noqa: F401  (imported once, not on the first document)

    while True:
        try:
            data, filename = pickle.loads(conn.recv_bytes())
        except EOFError:  # the worker went away
            return
        try:
            try:
                result = target(data, filename)
                payload = result if isinstance(result, bytes) else result.model_dump_json().encode()
                reply = _OK + payload
            except BaseException as exc:  # every failure goes back to the worker, which decides what it means
                try:
                    reply = _ERR + pickle.dumps(exc)
                except Exception:  # an exception that does not pickle still reports what it was
                    reply = _ERR + pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
            conn.send_bytes(reply)
        except OSError:  # the worker stopped waiting (shutdown or timeout): nobody wants the answer
            return


class ParsePool:
    """One parse process per worker, replaced whenever it hangs or dies."""

    def __init__(self, timeout_s: float, memory_mb: int, target: ParseTarget | None = None) -> None:
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        # The function run in the child; a module-level function so it pickles (tests pass faulty ones).
        self.target: ParseTarget = target or _parse
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._started_with: ParseTarget | None = None
        self._lock = asyncio.Lock()

    def start(self) -> None:
        """Start the child process now rather than on the first document."""
        if self._process is not None and self._process.is_alive() and self._started_with is self.target:
            return
        self._kill()
        # forkserver: a fresh, small interpreter instead of a fork of the worker's event loop and sockets.
        ctx = get_context("forkserver")
        parent, child = ctx.Pipe()
        process = ctx.Process(target=_child, args=(child, self.target, self.memory_mb), daemon=True)
        process.start()
        child.close()
        self._process, self._conn, self._started_with = process, parent, self.target

    async def parse(self, data: bytes, filename: str | None) -> ParsedMeeting:
        """Parse in the child; DocumentError passes through, a hang or crash becomes ParseFailed."""
        async with self._lock:  # one document at a time per child
            self.start()
            conn = self._conn
            assert conn is not None
            reply = await self._exchange(conn, pickle.dumps((data, filename)))
        if reply[:1] == _OK:
            return ParsedMeeting.model_validate_json(reply[1:])
        error = pickle.loads(reply[1:])
        if isinstance(error, MemoryError):
            self._kill()
            raise ParseFailed(f"parse ran out of memory (cap {self.memory_mb} MB)") from error
        raise error

    async def _exchange(self, conn: Connection, request: bytes) -> bytes:
        loop = asyncio.get_running_loop()
        readable = loop.create_future()
        fd = conn.fileno()

        def on_readable() -> None:
            if not readable.done():
                readable.set_result(None)

        try:
            os.set_blocking(fd, True)
            conn.send_bytes(request)
            loop.add_reader(fd, on_readable)
            try:
                await asyncio.wait_for(readable, self.timeout_s)
            finally:
                loop.remove_reader(fd)
            # The loop's poller (libuv under uvloop) makes the fd non-blocking; the reply is read whole.
            os.set_blocking(fd, True)
            return conn.recv_bytes()
        except TimeoutError as exc:
            self._kill()
            raise ParseFailed(f"parse took longer than {self.timeout_s:g} s") from exc
        except (EOFError, OSError) as exc:
            self._kill()
            raise ParseFailed("parse process died (crash or memory cap)") from exc

    def _kill(self) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = self._started_with = None
        if conn is not None:
            conn.close()
        if process is not None and process.is_alive():
            # A hung child never answers: kill it rather than wait.
            process.kill()
            process.join(5)
            log.warning("parse process replaced")

    def close(self, grace_s: float = 1.0) -> None:
        """Stop the child process: an idle child exits on EOF at once; one still parsing (its handler was
        cancelled at shutdown, so the message stays pending for a reclaim) is killed after `grace_s`."""
        process, conn = self._process, self._conn
        self._process = self._conn = self._started_with = None
        if conn is not None:
            conn.close()  # the child sees EOF and returns
        if process is not None:
            process.join(grace_s)
            if process.is_alive():
                process.kill()
                process.join()
