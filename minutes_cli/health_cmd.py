"""`minutes health [SERVICE]`: exit 0 only when the service can do its work (the container health check).

What "ready" means is known inside each service, which checks it every few seconds and keeps a heartbeat file
while the check passes (shared/health.py): store = Redis answers and the database is reachable and migrated
to the schema this version needs; parser = Redis answers and its parse child is alive; ingest = watching the
inbox (and the bucket) with Redis reachable; alerts = Redis answers and its database is migrated. This command
only reads the file's age, so it stays cheap and quick on a loaded machine (Docker runs it in every
container). Without a service: Redis answers, and when a `minutes up` supervises the data dir, its whole
pipeline runs and has room to write (the supervisor's heartbeat). api = what its `/readyz` answers, asked at
MINUTES_API_HOST:MINUTES_API_PORT (the API keeps no heartbeat: its readiness is an HTTP answer, and this
command must agree with it).
"""

from __future__ import annotations

import asyncio

from shared.health import pipeline_reason, read_beat
from shared.settings import Settings

SERVICES = ("ingest", "parser", "store", "alerts", "api")
TIMEOUT_S = 3.0


async def _ping(url: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=TIMEOUT_S, socket_timeout=TIMEOUT_S)
    try:
        await asyncio.wait_for(client.ping(), TIMEOUT_S)
    finally:
        await client.aclose()


def api_readiness(settings: Settings) -> str | None:
    """None when the API's `/readyz` answers 200, else its reason (its `detail`, or why it did not answer)."""
    import json
    import urllib.error
    import urllib.request

    if settings.api_port == 0:
        return "MINUTES_API_PORT is 0 (any free port): give the port the API printed to check it"
    url = settings.local_api_url + "readyz"
    try:
        # No proxy from the environment: the address is this machine's (or the container's) own.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url, timeout=TIMEOUT_S) as response:
            response.read()
        return None
    except urllib.error.HTTPError as exc:  # 503: not ready, and the body says why
        try:
            detail = json.loads(exc.read()).get("detail", "")
        except ValueError:
            detail = ""
        return f"api at {url} answers {exc.code}: {detail or exc.reason}"
    except (urllib.error.URLError, OSError) as exc:
        why = getattr(exc, "reason", exc)
        return f"api not answering at {url}: {why}"


def health(service: str | None, settings: Settings) -> str | None:
    """None when healthy, else the reason; any failure to check is a reason, not a crash."""
    if service == "api":
        return api_readiness(settings)
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
