"""Base class for every contract: frozen, JSON-friendly; tolerant of unknown fields on read, strict on write."""

from functools import cache
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
        known = _known_names(type(self))
        # `keys() <= frozenset` is a C-level subset test: no set is built on the common (valid) path.
        if not data.keys() <= known:
            unknown = sorted(set(data) - known)
            raise UnknownFields(f"{type(self).__name__} has no field(s) {', '.join(unknown)}")
        super().__init__(**data)

    # Marks this __init__ as pydantic's own, so validation (reading) does not route through it: pydantic
    # calls a custom __init__ from model_validate too, which would make reads strict again.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]


@cache
def _known_names(cls: type[Contract]) -> frozenset[str]:
    """Field names and aliases a contract class accepts; fixed once the class is defined, so computed once.

    Contracts are built tens of thousands of times per batch of documents; rebuilding this set each time
    was a measurable share of parsing.
    """
    fields = cls.model_fields
    return frozenset(fields) | {f.alias for f in fields.values() if f.alias}
