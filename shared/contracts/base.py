"""Base class for every contract: frozen, strict about unknown fields, JSON-friendly."""

from pydantic import BaseModel, ConfigDict


class Contract(BaseModel):
    """Immutable pydantic model; unknown fields are rejected so schema drift fails loudly."""

    model_config = ConfigDict(frozen=True, extra="forbid")
