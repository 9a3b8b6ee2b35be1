"""The search indexer in a process of its own, started and watched by the store service (issue 20).

**Why a process.** The indexer's work is Python (tokenising, stemming) and SQLite's FTS5 inserts, ~4.5 ms of
CPU a document, and in the store's process it shared one core with the writer: during a backfill the store
was the serial stage of the pipeline (the parsers were done while 11,000 items still waited for the store).
With the indexing switched off the same backfill ran 58 → 92 documents a second. In a child process it runs
on the other core; what it does and guarantees is unchanged (services/store/indexer.py: the queue table, one
transaction per pass, nothing stored left unindexed), and the queue already serves any number of indexers.

**How it is tied to the store.** The child is the store's: it belongs to the store's process tree (what
`minutes bench` counts as the store's CPU and memory), it is started with the store and stopped with it, and
nothing else (`minutes up`, compose, the supervisor) knows of it. The store writes one byte to the child's
stdin after a commit that queued items (`wake`); the child also polls the queue, as the in-process indexer
does. End of stdin means "stop": the child makes a last bounded pass (a graceful stop) and exits. A store
killed outright closes that pipe too, so a child never outlives its store. A child that exits on its own is
started again with the one retry policy's backoff, and said once per exit.

**Where it does not run.** A store given an engine by its caller (tests, tools) or an in-memory database
indexes in its own process, as before (`MINUTES_SEARCH_INDEXER=inline` asks for that too).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from services.store.indexer import FLUSH_S, SearchIndexer
from shared.logging import get_logger
from shared.retry import HANDLER

log = get_logger(__name__)

_WAKE, _QUIT = b"w", b"q"


class IndexerProcess:
    """The store's side: `start`, `wake` after a commit that queued items, `stop` (the same calls as
    SearchIndexer's)."""

    def __init__(self, database_url: str, *, max_chars: int, log_level: str, log_format: str) -> None:
        self.args = [database_url, str(max_chars), log_level, log_format]
        self._proc: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.starts = 0  # how many children were started (a test reads it)

    def wake(self) -> None:
        """Ask for a pass now; never waits (a full pipe means the child has wake-ups to read already)."""
        proc = self._proc
        if proc is None or proc.stdin is None or proc.stdin.is_closing():
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            if proc.stdin.transport.get_write_buffer_size() == 0:
                proc.stdin.write(_WAKE)

    def start(self) -> None:
        """Start the child, and restart it whenever it exits until `stop`."""
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.create_task(self._supervise(), name="search-indexer-process")

    async def _supervise(self) -> None:
        failures = 0
        while not self._stopping:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "services.store.indexer_process", *self.args, stdin=asyncio.subprocess.PIPE
            )
            self.starts += 1
            code = await self._proc.wait()
            if self._stopping:
                return
            failures += 1
            delay = HANDLER.delay(failures)
            log.warning("search indexer process exited; starting it again", exit_code=code, retry_in_s=delay)
            await asyncio.sleep(delay)

    async def stop(self, flush: bool = True) -> None:
        """Stop the child: with `flush`, after one last bounded pass over what is queued (what is left stays
        queued for the next start); then stop watching it."""
        self._stopping = True
        proc = self._proc
        if proc is not None and proc.returncode is None and proc.stdin is not None:
            with contextlib.suppress(ConnectionError, RuntimeError):
                if not flush:
                    proc.stdin.write(_QUIT)
                proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), FLUSH_S + 10)
            except TimeoutError:
                log.warning("search indexer process did not stop in time; killed")
                proc.kill()
                await proc.wait()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


async def _child(database_url: str, max_chars: int) -> None:
    from services.store.db import create_engine
    from services.store.sqlite_writer import SqliteWriter, sync_url

    engine = create_engine(database_url)
    file_url = sync_url(database_url)
    writer = SqliteWriter(file_url) if file_url else None
    indexer = SearchIndexer(engine, max_chars=max_chars)
    indexer.sqlite_writer = lambda: writer
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    # SIGTERM (a service manager) or SIGINT (Ctrl-C reaches the whole process group): stop as on end of input.
    done = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, done.set)
    indexer.start()
    flush = True
    try:
        while not done.is_set():
            read = asyncio.ensure_future(reader.read(4096))
            stop = asyncio.ensure_future(done.wait())
            await asyncio.wait({read, stop}, return_when=asyncio.FIRST_COMPLETED)
            stop.cancel()
            if not read.done():
                read.cancel()
                break
            data = read.result()
            if not data or _QUIT in data:
                flush = _QUIT not in data
                break
            indexer.wake()
    finally:
        await indexer.stop(flush=flush)
        if writer is not None:
            await asyncio.to_thread(writer.close)
        await engine.dispose()


def main() -> None:
    """`python -m services.store.indexer_process URL MAX_CHARS LOG_LEVEL LOG_FORMAT` (the store starts it)."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("database_url")
    ap.add_argument("max_chars", type=int)
    ap.add_argument("log_level")
    ap.add_argument("log_format", choices=["auto", "json", "console"])
    args = ap.parse_args()
    from shared.logging import configure_logging
    from shared.memory import release_large_buffers

    configure_logging(args.log_level, args.log_format, service="store-indexer")
    release_large_buffers()
    try:
        import uvloop

        uvloop.run(_child(args.database_url, args.max_chars))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
