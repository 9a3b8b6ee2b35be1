"""Generates the AsyncAPI documents of the services from their FastStream apps (no connection needed)."""

from __future__ import annotations

import importlib
from pathlib import Path

from shared.broker import consumer_name
from shared.settings import Settings

SERVICES = ("ingest", "parser", "store")


def spec_json(service: str) -> str:
    """The AsyncAPI JSON of one service's app, built against a placeholder Redis URL."""
    module = importlib.import_module(f"services.{service}.app")
    settings = Settings(redis_url="redis://redis:6379/0")
    app = module.create_app(settings)
    text: str = app.schema.to_specification().to_json()
    # Consumer names carry this machine's host name and pid: document their pattern instead.
    return text.replace(consumer_name(service), f"{service}-<hostname>-<pid>")


def write_specs(out: Path) -> list[Path]:
    """Write `<service>.json` for every service into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for service in SERVICES:
        path = out / f"{service}.json"
        path.write_text(spec_json(service) + "\n", encoding="utf-8")
        written.append(path)
    return written
