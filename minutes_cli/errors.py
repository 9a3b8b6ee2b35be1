"""Expected failures of the `minutes` commands as one or two lines saying what to do; tracebacks on --debug."""

from __future__ import annotations

import sys
from collections.abc import Callable

# Set by `minutes --debug` (or MINUTES_LOG_LEVEL=DEBUG): show the traceback instead of the short message.
DEBUG = {"on": False}
EXIT_USER_ERROR = 2


class UserError(Exception):
    """A failure the person can fix: `message` says what is wrong, `hint` what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def explain(exc: BaseException) -> UserError | None:
    """The short explanation of an expected failure, or None for a bug (which keeps its traceback)."""
    from pydantic import ValidationError
    from redis import exceptions as redis_errors
    from sqlalchemy import exc as sa_errors

    from shared.broker import RedisNotConfigured
    from shared.redis_server import RedisLaunchError

    if isinstance(exc, UserError):
        return exc
    if isinstance(exc, RedisNotConfigured):
        return UserError(
            f"no pipeline running: {exc}",
            "start `minutes up --data DIR` (or `./dev up`) in another terminal, or set MINUTES_REDIS_URL",
        )
    if isinstance(exc, redis_errors.AuthenticationError):
        return UserError(f"Redis refused the password: {exc}", "check the password in MINUTES_REDIS_URL")
    if isinstance(exc, redis_errors.ConnectionError | redis_errors.TimeoutError):
        return UserError(
            f"cannot reach Redis: {exc}",
            "is `minutes up` still running on this data dir, or is MINUTES_REDIS_URL right?",
        )
    if isinstance(exc, RedisLaunchError):
        return UserError(
            f"cannot start the embedded Redis: {exc}", "install redis-server or set MINUTES_REDIS_SERVER_BIN"
        )
    if isinstance(exc, sa_errors.DBAPIError):
        text = str(exc.orig) if exc.orig is not None else str(exc)
        if "no such table" in text or ("does not exist" in text and "relation" in text):
            return UserError(
                f"the database has no minutes schema ({text.splitlines()[0]})",
                "run `minutes migrate --data DIR` (or `minutes up`, which migrates) first",
            )
        return UserError(
            f"cannot use the database: {text.splitlines()[0] if text else type(exc.orig).__name__}",
            "check MINUTES_DATABASE_URL, or that the data dir is the one of your `minutes up`",
        )
    if isinstance(exc, ValidationError) and exc.title == "Settings":
        first = exc.errors()[0]
        name = "MINUTES_" + "_".join(str(part) for part in first["loc"]).upper()
        return UserError(f"bad setting {name}: {first['msg']}", "fix it in the environment or in .env")
    if isinstance(exc, ConnectionRefusedError):
        return UserError(f"connection refused: {exc}", "is the database or Redis server running?")
    return None


def debug_on() -> bool:
    """`--debug`, or MINUTES_LOG_LEVEL=DEBUG: the settings are read only when a failure is to be shown, so that a
    command that does not read them (`--help`) does not pay for importing pydantic-settings."""
    if DEBUG["on"]:
        return True
    from minutes_cli.options import make_settings

    try:
        return make_settings().log_level.upper() == "DEBUG"
    except Exception:  # a bad setting is reported by the command that reads it
        return False


def run(main: Callable[[], object]) -> None:
    """Call the CLI; print expected failures briefly (exit 2), everything else with its traceback."""
    try:
        main()
    except Exception as exc:
        known = explain(exc)
        if known is None or debug_on():
            raise
        # An expected refusal is the whole story: no hint at a traceback (a bug, below, shows its own).
        sys.stderr.write(f"minutes: {known.message}\n")
        if known.hint:
            sys.stderr.write(f"  {known.hint}\n")
        sys.exit(EXIT_USER_ERROR)
