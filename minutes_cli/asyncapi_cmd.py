"""Generates the AsyncAPI documents of the services from their FastStream apps (no connection needed)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from shared.broker import consumer_name
from shared.contracts.events import DocumentReceived, ItemsStreamEvent, PublicEvent
from shared.settings import Settings

SERVICES = ("ingest", "parser", "store", "alerts")

# The subscribers take the raw body, so that a message that does not validate is dead-lettered with its
# reason instead of failing inside FastStream; FastStream then documents an empty payload. These are the
# contracts they actually read.
SUBSCRIBED: dict[str, Any] = {"parser": DocumentReceived, "store": ItemsStreamEvent, "alerts": PublicEvent}


def _fill_payloads(spec: dict[str, Any], service: str) -> None:
    if service not in SUBSCRIBED:
        return
    schemas: dict[str, Any] = spec.setdefault("components", {}).setdefault("schemas", {})
    generated = TypeAdapter(SUBSCRIBED[service]).json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in generated.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    if "title" in generated and "properties" in generated:  # one model: document it under its own name
        schemas.setdefault(generated["title"], generated)
        generated = {"$ref": f"#/components/schemas/{generated['title']}"}
    for key, schema in schemas.items():
        if key.endswith(":Message:Payload") and set(schema) == {"title"}:
            schemas[key] = {"title": schema["title"], **generated}


def spec_json(service: str) -> str:
    """The AsyncAPI JSON of one service's app, built against a placeholder Redis URL; keys sorted, so the
    same code always writes the same bytes."""
    module = importlib.import_module(f"services.{service}.app")
    settings = Settings(redis_url="redis://redis:6379/0")
    app = module.create_app(settings)
    text: str = app.schema.to_specification().to_json()
    # Consumer names carry this machine's host name and pid: document their pattern instead.
    spec = json.loads(text.replace(consumer_name(service), f"{service}-<hostname>-<pid>"))
    _fill_payloads(spec, service)
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False)


def write_specs(out: Path) -> list[Path]:
    """Write `<service>.json` for every service into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for service in SERVICES:
        path = out / f"{service}.json"
        path.write_text(spec_json(service) + "\n", encoding="utf-8")
        written.append(path)
    return written
