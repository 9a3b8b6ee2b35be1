"""In-memory stand-ins for the ingest handler's Redis-backed dependencies."""

from __future__ import annotations

from collections.abc import Sequence


class MemorySeenStore:
    """The seen set and the reported-rejections map as dicts."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}
        self.rejected: dict[str, str] = {}

    async def known(self, document_ids: Sequence[str]) -> list[bool]:
        return [document_id in self.seen for document_id in document_ids]

    async def mark(self, names_by_id: dict[str, str]) -> None:
        for document_id, name in names_by_id.items():
            self.seen.setdefault(document_id, name)

    async def reported(self, keys_and_markers: dict[str, str]) -> set[str]:
        return {key for key, marker in keys_and_markers.items() if self.rejected.get(key) == marker}

    async def mark_reported(self, keys_and_markers: dict[str, str]) -> None:
        self.rejected.update(keys_and_markers)
