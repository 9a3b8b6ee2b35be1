"""Running a service's FastStream app as a process: uvloop when available, periodic housekeeping."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from faststream import FastStream

from shared.logging import get_logger

log = get_logger(__name__)


def run_app(app: FastStream) -> None:
    """Run until SIGINT/SIGTERM; FastStream then stops subscribers and waits for in-flight handlers."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency on Linux/macOS
        asyncio.run(app.run())
    else:
        uvloop.run(app.run())


class Periodic:
    """A background coroutine run every `interval_s` seconds until stopped; failures are logged, not fatal."""

    def __init__(self, name: str, interval_s: float, step: Callable[[], Awaitable[object]]) -> None:
        self.name = name
        self.interval_s = interval_s
        self.step = step
        self._task: asyncio.Task[None] | None = None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                await self.step()
            except Exception as exc:  # housekeeping must never take the service down
                log.warning("periodic task failed", task=self.name, error=str(exc))

    def start(self) -> None:
        """Start the loop on the running event loop."""
        self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        """Cancel the loop and wait for it."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
