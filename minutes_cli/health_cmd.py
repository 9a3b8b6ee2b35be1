"""`minutes health [SERVICE]`: exit 0 only when the service can do its work (the container health check).

What "ready" means is known inside each service, which checks it every few seconds and keeps a heartbeat file
while the check passes (shared/health.py): store = Redis answers and the database is reachable and migrated
to the schema this version needs; parser = Redis answers and its parse child is alive; ingest = watching the
inbox (and the bucket) with Redis reachable; alerts = Redis answers and its database is migrated. This command
only reads the file's age, so it stays cheap and quick on a loaded machine (Docker runs it in every
container). Without a service: Redis answers, and when a `minutes up` supervises the data dir, its whole
pipeline runs and has room to write (the supervisor's heartbeat).
"""

from __future__ import annotations

import asyncio

from shared.health import pipeline_reason, read_beat
from shared.settings import Settings

SERVICES = ("ingest", "parser", "store", "alerts")
TIMEOUT_S = 3.0


async def _ping(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=TIMEOUT_S, socket_timeout=TIMEOUT_S)
    try:
        await asyncio.wait_for(client.ping(), TIMEOUT_S)
    finally:
        await client.aclose()


def health(service: str | None, settings: Settings) -> str | None:
    """None when healthy, else the reason; any failure to check is a reason, not a crash."""
    if service is not None:
        return read_beat(settings.data_dir, service)
    try:
        from shared.broker import resolve_redis_url

        asyncio.run(_ping(resolve_redis_url(settings)))
    except Exception as exc:
        return f"Redis: {type(exc).__name__}: {exc}"
    pipeline = pipeline_reason(settings.data_dir)
    return f"pipeline: {pipeline}" if pipeline is not None else None


def main(argv: list[str] | None = None) -> int:
    """`python -m minutes_cli.health_cmd [SERVICE]`: the same check without the CLI's start-up cost."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    service = args[0] if args else None
    if service is not None and service not in SERVICES:
        print(f"unknown service {service!r}: {', '.join(SERVICES)}", file=sys.stderr)
        return 2
    reason = health(service, Settings())
    if reason is not None:
        print(f"unhealthy: {reason}", file=sys.stderr)
        return 1
    print("healthy")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
