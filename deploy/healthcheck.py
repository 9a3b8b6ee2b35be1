"""Container health check: the settings load and Redis answers PING within two seconds (exit 0 = healthy)."""

from __future__ import annotations

import sys


def main() -> int:
    """Check the one dependency every service needs; print why on failure (shown by `docker inspect`)."""
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
