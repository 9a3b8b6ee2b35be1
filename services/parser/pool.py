"""Runs the pure parser in a child process: the event loop stays free, and a hang or crash is contained.

One child per worker, talked to over a pipe that the event loop watches directly (no executor threads:
`ProcessPoolExecutor`'s manager thread and wake-up pipe cost the worker a third of its CPU in profiles).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import resource
import select
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing import get_context
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from services.parser.events import EncodedMeeting, encode_meeting_events
from shared.contracts.events import DocumentReceived
from shared.contracts.meeting import ParsedMeeting
from shared.logging import get_logger

log = get_logger(__name__)

ParseTarget = Callable[[bytes, str | None], ParsedMeeting | bytes]

_OK, _ERR = b"o", b"e"


class ParseFailed(Exception):
    """The parse process hung past its time limit or died (crash, memory cap): retry, then dead-letter."""


class _CpuLimit(Exception):
    """Raised inside the child when one parse used more CPU time than allowed."""


# How often the worker looks at the clock while it waits for the child: the time limit counts only slices
# in which both were running, so a worker or child paused (SIGSTOP, a suspended VM) is not a timeout.
_SLICE_S = 0.25
# How often the child records its peak address space (a read of /proc/self/status: microseconds).
_MEMORY_POLL_S = 0.02
# A child that died with its address space this close to the cap died of the cap.
_NEAR_CAP = 0.9


def _parse(data: bytes, filename: str | None) -> ParsedMeeting:
    from services.parser.core import parse_document

    return parse_document(data, filename)


def _reply(
    result: ParsedMeeting | bytes, received: DocumentReceived | None
) -> tuple[EncodedMeeting | None, list[bytes]]:
    """What crosses back to the worker: with `received`, the document's events already serialised (the worker
    only frames and publishes them: validating a meeting's JSON again in the worker cost five times its
    serialisation); without, the meeting as JSON (faster across than a pickled tree of pydantic models).

    As (the summary without its bodies, the bodies): each body crosses as a message of its own, so neither
    side builds one pickle of a whole large document next to its parts.
    """
    if received is None:
        return None, [result if isinstance(result, bytes) else result.model_dump_json().encode()]
    meeting = ParsedMeeting.model_validate_json(result) if isinstance(result, bytes) else result
    encoded = encode_meeting_events(received, meeting)
    del meeting
    return encoded._replace(bodies=()), list(encoded.bodies)


def _on_cpu_limit(signum: int, frame: object) -> None:
    raise _CpuLimit


def _vm_peak_kb() -> int:
    """This process's peak address space (VmPeak), in kB; 0 when /proc does not tell."""
    try:
        with open("/proc/self/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"VmPeak:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _watch_memory(peak: Any, parsing: threading.Event) -> None:
    """Keep the child's peak address space in shared memory: when a native library (pdfium) cannot
    allocate under the cap it aborts the process, and this value, outliving it, tells the worker why.

    Only while a parse runs: polling an idle child cost it 6 ms of CPU a second."""
    while True:
        parsing.wait()
        peak.value = max(peak.value, _vm_peak_kb())
        time.sleep(_MEMORY_POLL_S)


def _child(conn: Connection, target: ParseTarget, memory_mb: int, cpu_s: float = 0.0, peak: Any = None) -> None:
    # An address-space cap turns a runaway parse into a MemoryError here, not an OOM kill of the worker.
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    parsing = threading.Event()
    if peak is not None:
        threading.Thread(target=_watch_memory, args=(peak, parsing), name="memory-peak", daemon=True).start()
    # The time limit measured where the work happens: CPU time of this process (ITIMER_PROF), which does not
    # advance while the process is stopped, so a pause is never mistaken for a runaway parse.
    signal.signal(signal.SIGPROF, _on_cpu_limit)
    import services.parser.core  # noqa: F401  (imported once, not on the first document)

    while True:
        try:
            # The bytes cross as a message of their own (no pickle of a copy of a document of up to 50 MB).
            filename, received = pickle.loads(conn.recv_bytes())
            data = conn.recv_bytes()
        except EOFError:  # the worker went away
            return
        try:
            try:
                if cpu_s > 0:
                    signal.setitimer(signal.ITIMER_PROF, cpu_s)
                parsing.set()
                try:
                    result = target(data, filename)
                finally:
                    parsing.clear()
                    signal.setitimer(signal.ITIMER_PROF, 0)
                del data
                summary, parts = _reply(result, received)
                del result
                reply = _OK + pickle.dumps((summary, len(parts)), protocol=pickle.HIGHEST_PROTOCOL)
            except _CpuLimit:
                reply = _ERR + pickle.dumps(ParseFailed(f"the parse needs more than {cpu_s:g} s of CPU time"))
            except MemoryError:
                reply = _ERR + pickle.dumps(ParseFailed(f"the parse needs more than {memory_mb} MB of memory"))
            except BaseException as exc:  # every failure goes back to the worker, which decides what it means
                try:
                    reply = _ERR + pickle.dumps(exc)
                except Exception:  # an exception that does not pickle still reports what it was
                    reply = _ERR + pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))
            conn.send_bytes(reply)
            if reply[:1] == _OK:
                while parts:
                    conn.send_bytes(parts.pop(0))  # each one freed once it is across
            data = result = parts = None  # type: ignore[assignment]  # nothing of this document kept meanwhile
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
        self._peak: Any = None  # the child's peak address space in kB (shared memory, see _watch_memory)
        self._parsing_pdf = False
        self._lock = asyncio.Lock()

    def start(self) -> None:
        """Start the child process now rather than on the first document."""
        if self._process is not None and self._process.is_alive() and self._started_with is self.target:
            return
        self._kill()
        # forkserver: a fresh, small interpreter instead of a fork of the worker's event loop and sockets.
        ctx = get_context("forkserver")
        parent, child = ctx.Pipe()
        self._peak = ctx.Value("q", 0, lock=False)
        process = ctx.Process(
            target=_child, args=(child, self.target, self.memory_mb, self.timeout_s, self._peak), daemon=True
        )
        process.start()
        child.close()
        self._process, self._conn, self._started_with = process, parent, self.target

    async def ensure_child(self) -> str | None:
        """Start the child if a failed parse left none (it is otherwise started lazily); None when it runs,
        else why it does not. A parse in progress counts as alive: that parse notices (and reports) a death
        itself, and waiting for it would stall the heartbeat for as long as the parse takes."""
        if self._lock.locked():
            return None
        async with self._lock:
            try:
                self.start()
            except OSError as exc:
                return f"cannot start the parse process: {exc}"
            process = self._process
            if process is None or not process.is_alive():
                return "the parse process is not running"
        return None

    async def parse(self, data: bytes, filename: str | None) -> ParsedMeeting:
        """Parse in the child; DocumentError passes through, a hang or crash becomes ParseFailed."""
        _, parts = await self._request(data, filename, None)
        return ParsedMeeting.model_validate_json(parts[0])

    async def parse_events(self, data: bytes, received: DocumentReceived) -> EncodedMeeting:
        """Parse in the child and return the document's events serialised there, ready to publish.

        The caller should hold no other reference to `data`: it is dropped once sent, so a large document's
        bytes and its events are never in the worker at once."""
        request = self._request(data, received.original_name, received)
        del data
        summary, parts = await request
        assert summary is not None
        return summary._replace(bodies=tuple(parts))

    async def _request(
        self, data: bytes, filename: str | None, received: DocumentReceived | None
    ) -> tuple[EncodedMeeting | None, list[bytes]]:
        """The child's answer to one document; DocumentError passes through, a hang or crash becomes ParseFailed."""
        async with self._lock:  # one document at a time per child
            self.start()
            conn = self._conn
            assert conn is not None
            self._parsing_pdf = b"%PDF-" in data[:1024]
            header = pickle.dumps((filename, received), protocol=pickle.HIGHEST_PROTOCOL)
            reply, parts = await self._exchange(conn, header, [data])
        if reply[:1] == _OK:
            summary, _count = pickle.loads(reply[1:])
            return summary, parts
        error = pickle.loads(reply[1:])
        if isinstance(error, ParseFailed | MemoryError):
            # After a MemoryError or an interrupted parse the child's heap may be in any state: start afresh.
            self._kill()
            if isinstance(error, MemoryError) or "MB of memory" in str(error):
                raise ParseFailed(self._memory_reason()) from error
        raise error

    def _memory_reason(self) -> str:
        if self._parsing_pdf:
            return (f"the PDF's content expands beyond {self.memory_mb} MB (MINUTES_PARSE_MEMORY_MB): "
                    "a compressed stream or image too large to read")
        return f"the parse needs more than {self.memory_mb} MB of memory (MINUTES_PARSE_MEMORY_MB)"

    def _died_at_cap(self) -> bool:
        peak = self._peak.value if self._peak is not None else 0
        return bool(peak) and peak >= self.memory_mb * 1024 * _NEAR_CAP

    async def _exchange(self, conn: Connection, header: bytes, payload: list[bytes]) -> tuple[bytes, list[bytes]]:
        """Send `header` and then the one buffer in `payload` (taken out of the list, so the caller's last
        reference goes once it is sent); the reply's head and, when it is OK, the parts that follow it."""
        loop = asyncio.get_running_loop()
        readable = loop.create_future()
        fd = conn.fileno()

        def on_readable() -> None:
            if not readable.done():
                readable.set_result(None)

        try:
            os.set_blocking(fd, True)
            conn.send_bytes(header)
            conn.send_bytes(payload.pop())
            loop.add_reader(fd, on_readable)
            try:
                await self._wait_running(readable, fd)
            finally:
                loop.remove_reader(fd)
            # The loop's poller (libuv under uvloop) makes the fd non-blocking; the reply is read whole.
            os.set_blocking(fd, True)
            head = conn.recv_bytes()
            if head[:1] != _OK:
                return head, []
            _summary, count = pickle.loads(head[1:])
            return head, [conn.recv_bytes() for _ in range(count)]
        except TimeoutError as exc:
            self._kill()
            raise ParseFailed(f"the parse took longer than {self.timeout_s:g} s (blocked, not computing)") from exc
        except (EOFError, OSError) as exc:
            raise ParseFailed(self._death_reason()) from exc

    async def _wait_running(self, readable: asyncio.Future[None], fd: int) -> None:
        """Wait for the reply. A parse that computes is limited by its CPU time, in the child; here only the
        time the child was blocked (running, yet using no CPU: a sleep, a stuck read) counts, and only while
        this worker ran too, so a pause (SIGSTOP, a busy machine) is never taken for a hang."""
        counted = 0.0
        state, cpu = self._child_state()
        while True:
            started = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(readable), _SLICE_S)
            if readable.done() or _has_data(fd):
                return
            # A slice that took far longer than asked means this worker was stopped: count only the slice.
            elapsed = min(time.monotonic() - started, _SLICE_S * 2)
            state, now_cpu = self._child_state()
            if state not in (b"T", b"t") and now_cpu == cpu:
                counted += elapsed
            cpu = now_cpu
            if counted >= self.timeout_s:
                raise TimeoutError

    def _child_state(self) -> tuple[bytes, int]:
        """The child's scheduler state and CPU time so far (clock ticks), from /proc; unknown: ("?", -1)."""
        process = self._process
        if process is None or process.pid is None:
            return b"?", -1
        try:
            with open(f"/proc/{process.pid}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            return fields[0], int(fields[11]) + int(fields[12])  # state, utime + stime
        except (OSError, IndexError, ValueError):
            return b"?", -1

    def _death_reason(self) -> str:
        """Why the child died, as specifically as its exit status tells."""
        process = self._process
        code = None
        if process is not None:
            process.join(2)
            code = process.exitcode
        at_cap = self._died_at_cap()
        self._kill()
        if code is not None and code != 0 and at_cap:
            # A native library that cannot allocate under the cap aborts (SIGABRT) or faults: the cap's doing.
            return self._memory_reason()
        if code is not None and code < 0:
            name = signal.Signals(-code).name
            if -code == signal.SIGKILL:
                # The kernel's OOM killer and a cgroup limit both end a process with SIGKILL.
                return f"the parse process died: killed by {name} (out of memory, or a crash)"
            return f"the parse process died of {name} (a crash in the parser)"
        return f"the parse process died (exit status {code})"

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


def _has_data(fd: int) -> bool:
    """Whether the reply is already waiting (after a pause the timer and the reply can arrive together)."""
    try:
        ready, _, _ = select.select([fd], [], [], 0)
    except (OSError, ValueError):
        return False
    return bool(ready)
