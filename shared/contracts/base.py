"""Base class for every contract: frozen, JSON-friendly; tolerant of unknown fields on read, strict on write."""

from typing import Any

from pydantic import BaseModel, ConfigDict


class UnknownFields(TypeError):
    """A contract was built with fields it does not have (a typo, or code ahead of the schema)."""


class Contract(BaseModel):
    """Immutable pydantic model.

    Reading (`model_validate`, `model_validate_json`) ignores fields it does not know, so an older consumer
    accepts a newer producer's event during a rolling upgrade (fields may be added within a schema version).
    Writing (constructing one in code) rejects unknown fields, so our own producers cannot drift silently.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    def __init__(self, /, **data: Any) -> None:
        fields = type(self).model_fields
        known = set(fields) | {f.alias for f in fields.values() if f.alias}
        unknown = sorted(set(data) - known)
        if unknown:
            raise UnknownFields(f"{type(self).__name__} has no field(s) {', '.join(unknown)}")
        super().__init__(**data)

    # Marks this __init__ as pydantic's own, so validation (reading) does not route through it: pydantic
    # calls a custom __init__ from model_validate too, which would make reads strict again.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]
