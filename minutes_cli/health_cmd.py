"""`minutes health [SERVICE]`: exit 0 only when the service can do its work (the container health check).

- store: Redis answers and the database is reachable and migrated to the schema this version needs.
- parser, ingest: the service's own heartbeat is fresh (shared/health.py): parser = broker reachable and its
  parse child alive; ingest = watching the inbox (and the bucket) with Redis reachable.
- no service: Redis answers (what the image alone can check).
"""

from __future__ import annotations

import asyncio

from shared.health import read_beat
from shared.settings import Settings

TIMEOUT_S = 3.0


async def _redis(url: str) -> str | None:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        await client.ping()
    finally:
        await client.aclose()
    return None


async def _database(url: str, wanted: str | None) -> str | None:
    from services.store.db import schema_revision

    current = await schema_revision(url)
    if current != wanted:
        return f"database schema is at {current or 'nothing (not migrated)'}, not {wanted}: run `minutes migrate`"
    return None


async def _check(service: str | None, redis_url: str, database_url: str, head: str | None) -> str | None:
    reason = await _redis(redis_url)
    if reason is None and service == "store":
        reason = await _database(database_url, head)
    return reason


def health(service: str | None, settings: Settings) -> str | None:
    """None when healthy, else the reason; any failure to check is a reason, not a crash."""
    if service in ("parser", "ingest"):
        return read_beat(settings.data_dir, service)
    try:
        from shared.broker import resolve_redis_url

        redis_url = resolve_redis_url(settings)
        head = None
        if service == "store":  # imported before the clock starts: SQLAlchemy and Alembic take a while
            from services.store.db import head_revision

            head = head_revision()
        check = _check(service, redis_url, settings.effective_database_url, head)
        return asyncio.run(asyncio.wait_for(check, TIMEOUT_S))
    except TimeoutError:
        return f"no answer within {TIMEOUT_S:g} s"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


def main(argv: list[str] | None = None) -> int:
    """`python -m minutes_cli.health_cmd [SERVICE]`: the same check without the CLI's start-up cost, since
    Docker runs it every few seconds in every container."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    service = args[0] if args else None
    if service not in (None, "ingest", "parser", "store"):
        print(f"unknown service {service!r}: ingest, parser or store", file=sys.stderr)
        return 2
    reason = health(service, Settings())
    if reason is not None:
        print(f"unhealthy: {reason}", file=sys.stderr)
        return 1
    print("healthy")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
