"""`minutes service api`: the app under uvicorn on a socket bound here, so a busy port is said plainly."""

from __future__ import annotations

import contextlib
import errno
import gc
import socket
import sys
from collections.abc import Iterator
from typing import Any

import uvicorn
from fastapi import FastAPI

from services.api.app import create_app
from shared.logging import get_logger
from shared.settings import Settings

log = get_logger(__name__)

# Exit status of a service that cannot start on this configuration (EX_CONFIG): `minutes up` does not restart it.
REFUSED = 78


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: any free one)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """The page's URL for a bound socket."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


class _Server(uvicorn.Server):
    """Says where the page is once uvicorn accepts connections (after the app's start-up)."""

    def __init__(self, config: uvicorn.Config, url: str, app: FastAPI) -> None:
        super().__init__(config)
        self.url = url
        self.app = app

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn re-raises SIGTERM/SIGINT after its graceful shutdown, so the process would end "killed by
        # SIGTERM" (exit 143 in compose, a restart note in `minutes up`); a drained stop is a clean exit.
        with super().capture_signals():
            try:
                yield
            finally:
                self._captured_signals.clear()

    async def shutdown(self, sockets: Any = None) -> None:
        # Live streams never end by themselves: end them (their clients reconnect with their Last-Event-ID)
        # so that the drain does not wait out its timeout.
        deps = getattr(self.app.state, "deps", None)  # set by the lifespan's start
        hub = deps.hub if deps is not None else None
        if hub is not None:
            hub.end_all()
        await super().shutdown(sockets)

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        if self.started:
            # What start-up made (modules, routes, settings) lives as long as the process: a full collection
            # (each burst of live clients ends with one, shared/memory.py) need not walk it again.
            gc.collect()
            gc.freeze()
            log.info("api listening", url=self.url, docs=f"{self.url}docs")


def serve(settings: Settings) -> int:
    """Serve until SIGINT/SIGTERM (uvicorn drains open requests); 78 when the address cannot be bound."""
    try:
        sock = bind(settings.api_host, settings.api_port)
    except OSError as exc:
        why = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be bound ({exc.strerror})"
        print(
            f"api: {settings.api_host}:{settings.api_port} {why}; set MINUTES_API_PORT (or MINUTES_API_HOST)",
            file=sys.stderr,
        )
        return REFUSED
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        log_config=None,  # our structlog set-up (configure_logging) handles uvicorn's loggers too
        access_log=False,
        server_header=False,
        proxy_headers=False,
        h11_max_incomplete_event_size=max(16384, settings.api_max_request_bytes * 2),
        timeout_graceful_shutdown=8,
    )
    server = _Server(config, url_of(sock), app)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0
