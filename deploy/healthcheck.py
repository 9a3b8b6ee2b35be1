"""Container health check (exit 0 = healthy).

Workers: the settings load and Redis answers PING within two seconds. The API (`--url URL`): its readiness
endpoint answers 200 within four seconds (the database answers and is migrated to head).
"""

from __future__ import annotations

import sys


def check_url(url: str) -> int:
    """200 from `url` (the API's /readyz) is healthy; anything else prints why."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=4) as response:
            if response.status == 200:
                return 0
            print(f"unhealthy: {url} answered {response.status}", file=sys.stderr)
    except urllib.error.HTTPError as exc:
        print(f"unhealthy: {url} answered {exc.code}: {exc.read()[:300].decode(errors='replace')}", file=sys.stderr)
    except Exception as exc:
        print(f"unhealthy: {type(exc).__name__}: {exc}", file=sys.stderr)
    return 1


def main() -> int:
    """Check the one dependency every service needs; print why on failure (shown by `docker inspect`)."""
    if len(sys.argv) == 3 and sys.argv[1] == "--url":
        return check_url(sys.argv[2])
    try:
        import redis

        from shared.settings import Settings

        url = Settings().redis_url
        if not url:
            print("MINUTES_REDIS_URL is not set", file=sys.stderr)
            return 1
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # any failure means unhealthy, and the reason must reach the operator
        print(f"unhealthy: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
