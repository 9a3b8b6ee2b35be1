"""The API under a real uvicorn on a free loopback port, in a thread of the test process."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from services.api.app import create_app
from services.api.server import bind, url_of
from shared.settings import Settings


@contextmanager
def running_api(settings: Settings, timeout: float = 30) -> Iterator[str]:
    """Serve `create_app(settings)` on 127.0.0.1:<free port>; yields the base URL (ending in `/`)."""
    with running_app(settings, timeout) as (base, _app):
        yield base


@contextmanager
def running_app(settings: Settings, timeout: float = 30) -> Iterator[tuple[str, FastAPI]]:
    """`running_api`, also yielding the app (its `state.deps` once started) for tests that look inside."""
    sock = bind("127.0.0.1", 0)
    app = create_app(settings)
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    # uvicorn installs signal handlers only in the main thread; in this thread it runs without them.
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the API server exited during start-up")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the API server did not start within {timeout:g}s")
        time.sleep(0.02)
    try:
        yield url_of(sock), app
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
