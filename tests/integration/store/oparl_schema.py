"""Validators for OParl 1.1 objects from the vendored schema files (tests/fixtures/oparl-1.1, see SOURCE.md).

OParl's schema files are JSON Schema with the spec's own keywords (`"schema": "File.json"` for an embedded
object, formats `url`, `date`, `date-time`). They are translated into plain JSON Schema (Draft 7) as the
spec's own checker does: embedded objects become `$ref`s, formats become patterns, and a property outside
the schema is an error unless it carries a vendor prefix (ours: `minutes:`).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "oparl-1.1"

# The formats of the chapter "JSON-Ausgabe" of the specification.
FORMAT_PATTERNS = {
    "url": r"^https?://[^\s]+$",
    "date": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
    "date-time": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}$",
}
VENDOR_PROPERTY = r"^minutes:[A-Za-z][A-Za-z0-9]*$"


def _property(prop: dict[str, Any], known: set[str]) -> dict[str, Any]:
    kind = prop.get("type")
    if kind == "object":
        target = prop.get("schema")
        if target is None:
            return {"type": "object"}
        name = target.removesuffix(".json")
        assert name in known, f"schema {target} is not vendored"
        return {"$ref": f"#/definitions/{name}"}
    if kind == "array":
        return {"type": "array", "items": _property(prop["items"], known)}
    if kind == "string":
        parts: list[dict[str, Any]] = [{"type": "string"}]
        if "format" in prop:
            parts.append({"pattern": FORMAT_PATTERNS[prop["format"]]})
        if "pattern" in prop:
            parts.append({"pattern": prop["pattern"]})
        return parts[0] if len(parts) == 1 else {"allOf": parts}
    if kind in ("boolean", "integer"):
        return {"type": kind}
    raise AssertionError(f"unknown type {kind!r} in the OParl schema")


@cache
def definitions() -> dict[str, Any]:
    """Every vendored OParl type as a plain JSON Schema definition."""
    raw = {p.stem: json.loads(p.read_text()) for p in SCHEMA_DIR.glob("*.json")}
    known = set(raw)
    out = {}
    for name, schema in raw.items():
        out[name] = {
            "type": "object",
            "required": schema["required"],
            "properties": {key: _property(prop, known) for key, prop in schema["properties"].items()},
            "patternProperties": {VENDOR_PROPERTY: {}},
            "additionalProperties": False,
        }
    Draft7Validator.check_schema({"definitions": out})
    return out


def validator(type_name: str) -> Draft7Validator:
    """A validator of one OParl 1.1 type (`Meeting`, `AgendaItem`, `Organization`, `File`, …)."""
    return Draft7Validator({"$ref": f"#/definitions/{type_name}", "definitions": definitions()})


def errors(type_name: str, obj: Any) -> list[str]:
    """Why `obj` is not a valid OParl 1.1 `type_name` (empty when it is)."""
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or '.'}: {e.message}"
        for e in validator(type_name).iter_errors(obj)
    ]
