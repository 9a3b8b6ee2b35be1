"""Bounded streams: trim only entries that every consumer group has acknowledged."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from shared import streams

# A consumer idle this long with nothing pending belongs to a worker that is gone.
DEAD_CONSUMER_IDLE_MS = 60 * 60 * 1000


def _as_str(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


async def safe_trim_id(client: Redis, stream: str, groups: tuple[str, ...]) -> str | None:
    """The lowest id any group still needs: its oldest pending entry, else the last one it was given."""
    try:
        infos = {_as_str(info["name"]): info for info in await client.xinfo_groups(stream)}
    except ResponseError:  # no such stream yet
        return None
    floor: str | None = None
    for group in groups:
        info = infos.get(group)
        if info is None:
            return None  # a group that does not exist yet has read nothing: keep everything
        needed = _as_str(info["last-delivered-id"])
        if int(info["pending"]):
            summary = await client.xpending(stream, group)
            needed = _as_str(summary["min"])
        if floor is None or _id_key(needed) < _id_key(floor):
            floor = needed
    return floor


async def trim_acknowledged(client: Redis, groups_by_stream: dict[str, tuple[str, ...]] | None = None) -> int:
    """XTRIM MINID every internal stream below what all its groups acknowledged; returns entries removed."""
    removed = 0
    for stream, groups in (groups_by_stream or streams.GROUPS_BY_STREAM).items():
        floor = await safe_trim_id(client, stream, groups)
        if floor and floor != "0-0":
            # Exact MINID (no `~`): the pending entry at `floor` and everything after it must survive.
            removed += int(await client.xtrim(stream, minid=floor, approximate=False))
    return removed


async def prune_consumers(client: Redis, stream: str, group: str, idle_ms: int) -> list[str]:
    """Delete consumers that hold no pending entries and were idle for `idle_ms`: workers that died.

    Every worker process has its own consumer name, so restarts leave names behind. Only empty ones go
    (deleting one with pending entries would make those unclaimable); a live consumer removed by mistake is
    recreated by its next XREADGROUP.
    """
    try:
        consumers = await client.xinfo_consumers(stream, group)
    except ResponseError:  # no such stream or group yet
        return []
    removed = []
    for consumer in consumers:
        if int(consumer["pending"]) == 0 and int(consumer["idle"]) >= idle_ms:
            name = _as_str(consumer["name"])
            await client.xgroup_delconsumer(stream, group, name)
            removed.append(name)
    return removed
