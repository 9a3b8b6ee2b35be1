"""Every API endpoint and dependency is `async`: FastAPI runs a plain `def` one in a worker thread, so each
request would pay a thread hop and a burst of clients would leave anyio's 40 worker threads in the process
(1,000 SSE clients did, through the filter dependency). Blocking work goes to a thread explicitly instead."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from services.api.app import create_app
from shared.settings import Settings


def _sync_calls(dependant: Dependant, where: str) -> list[str]:
    found = []
    for dep in dependant.dependencies:
        call: Any = dep.call
        if call is not None and not (inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call)):
            found.append(f"{where}: {getattr(call, '__qualname__', call)}")
        found += _sync_calls(dep, where)
    return found


def _api_routes(routes: list[Any]) -> list[APIRoute]:
    """The app's routes, through included routers (FastAPI keeps those as routers of their own)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += _api_routes(route.original_router.routes)
    return found


def test_no_endpoint_or_dependency_runs_in_a_worker_thread(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path / "data"))
    routes = _api_routes(app.routes)
    assert len(routes) > 20  # the API's routes are all here
    sync = [f"{r.path}: {r.endpoint.__qualname__}" for r in routes if not inspect.iscoroutinefunction(r.endpoint)]
    for route in routes:
        sync += _sync_calls(route.dependant, route.path)
    assert sync == []
