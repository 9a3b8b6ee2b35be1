"""The one consume step every service's handlers go through: decode, handle, and one rule for failures.

- an invalid message, or an error the handler marks permanent (a `DocumentError`): dead-lettered at once;
- an outage of a dependency (Redis unreachable or refusing writes, the database unreachable): never counted;
  the handler is retried in place with capped exponential backoff, the outage is logged once when it starts
  and once when it ends, and the message is kept (so memory stays flat: nothing new is read meanwhile);
- any other error: retried in place with a short backoff, each attempt counted on top of the deliveries
  Redis counted (a worker that died holding the message counts too); at `max_deliveries` dead-lettered.

Retrying in place (rather than leaving the message pending for a reclaim after `MINUTES_CLAIM_IDLE_MS`)
dead-letters a poison message within seconds, and a message never sits pending below the retention trim.
"""

from __future__ import annotations

import asyncio
import errno
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import ValidationError
from redis import exceptions as redis_errors

from shared.contracts.events import DeadLettered
from shared.dead_letter import InvalidMessage, describe_failure
from shared.logging import get_logger
from shared.retry import HANDLER, OUTAGE, Backoff, sleep_or_stop

log = get_logger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# Redis error replies that mean "Redis cannot take writes right now", not "this message is bad".
_REFUSING = ("MISCONF", "OOM", "READONLY", "LOADING", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "NOREPLICAS")
_NETWORK_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.EPIPE, errno.ETIMEDOUT, errno.EHOSTUNREACH}


def redis_outage(error: BaseException) -> bool:
    """True when the error says Redis is unreachable or refusing writes (disk full, out of memory, loading)."""
    if isinstance(error, redis_errors.AuthenticationError | redis_errors.AuthorizationError):
        return False  # a wrong password is a configuration error: waiting would never end it
    if isinstance(error, redis_errors.ConnectionError | redis_errors.TimeoutError | redis_errors.BusyLoadingError):
        return True
    if isinstance(error, redis_errors.OutOfMemoryError | redis_errors.ReadOnlyError | redis_errors.TryAgainError):
        return True  # redis-py strips the error code from these: known by their class
    if isinstance(error, redis_errors.ResponseError):
        text = str(error).lstrip("-")
        # A script's error carries the refusal inside its own message.
        return text.split(" ", 1)[0].upper() in _REFUSING or any(
            mark in text for mark in ("MISCONF", "OOM command not allowed", "command not allowed when used memory")
        )
    return isinstance(error, ConnectionError) or (isinstance(error, OSError) and error.errno in _NETWORK_ERRNOS)


def _short(error: BaseException) -> str:
    """One line, a few hundred characters: log lines stay small whatever the exception carries."""
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text[:300]}"


@dataclass
class OutageGate:
    """Per process: whether a dependency is down, with the backoff to wait before trying again.

    Logs when the state changes (down, back), never per message or per attempt.
    """

    service: str
    # The shared outage policy (shared/retry.py); tests shorten it.
    initial_s: float = OUTAGE.initial_s
    cap_s: float = OUTAGE.cap_s
    down_since: float | None = None
    # Told of each change of state (True: down, False: back), e.g. to tell a person at a terminal.
    on_change: Callable[[bool, str], None] | None = None
    _attempt: int = 0
    _reason: str = ""

    @property
    def is_down(self) -> bool:
        """Whether the last attempt met an outage."""
        return self.down_since is not None

    async def wait(self, error: BaseException, stop: asyncio.Event | None = None) -> None:
        """Record an outage and sleep its current backoff (doubling up to the cap; less if `stop` is set)."""
        if self.down_since is None:
            self.down_since = time.monotonic()
            self._attempt = 0
            self._reason = _short(error)
            log.warning("dependency unavailable; holding messages, retrying with backoff",
                        service=self.service, error=self._reason, cap_s=self.cap_s)
            if self.on_change is not None:
                self.on_change(True, self._reason)
        self._attempt += 1
        await sleep_or_stop(Backoff(self.initial_s, self.cap_s).delay(self._attempt), stop)

    async def through(
        self,
        call: Callable[[], Awaitable[R]],
        is_outage: Callable[[BaseException], bool] = redis_outage,
        stop: asyncio.Event | None = None,
    ) -> R:
        """`call()`, again after this gate's backoff for as long as it meets an outage (never counted);
        any other error is raised at once."""
        while True:
            try:
                result = await call()
            except Exception as exc:
                if not is_outage(exc) or (stop is not None and stop.is_set()):
                    raise
                await self.wait(exc, stop)
                continue
            self.up()
            return result

    def up(self) -> None:
        """Record that a dependency answered again (logs once, at the end of an outage)."""
        if self.down_since is not None:
            log.warning("dependency available again", service=self.service, error=self._reason,
                        down_s=round(time.monotonic() - self.down_since, 1))
            self.down_since = None
            if self.on_change is not None:
                self.on_change(False, self._reason)


@dataclass(frozen=True)
class Outcome(Generic[T]):
    """What became of one message: the handler's result, or the reason it was dead-lettered."""

    result: T | None = None
    dead_lettered: str | None = None
    attempts: int = 1


@dataclass
class ConsumeStep:
    """The consume rule of one service's stream, with what it needs to dead-letter."""

    service: str
    stream: str
    max_deliveries: int
    dead_letter: Callable[[DeadLettered], Awaitable[object]]
    # Errors that can never succeed for this message (bad input): dead-lettered at once.
    permanent: tuple[type[BaseException], ...] = ()
    # Of those, the ones worth a `minutes dlq retry` later (e.g. a blob missing now may be restored).
    permanent_but_retryable: tuple[type[BaseException], ...] = ()
    # Which errors are outages of a dependency (never counted); Redis outages always are.
    outage: Callable[[BaseException], bool] = redis_outage
    gate: OutageGate | None = None
    retry_initial_s: float = HANDLER.initial_s
    retry_cap_s: float = HANDLER.cap_s
    describe: Callable[[Any], dict[str, str | None]] = field(default=lambda _value: {})
    # Resets the message's idle time (XCLAIM JUSTID to itself) while it is handled, so a handler that waits
    # out an outage or retries is not reclaimed by another worker (which would count a delivery).
    keepalive: Callable[[str], Awaitable[object]] | None = None
    keepalive_s: float = 10.0

    def __post_init__(self) -> None:
        if self.gate is None:
            self.gate = OutageGate(self.service)

    def is_outage(self, error: BaseException) -> bool:
        """Whether `error` is a dependency outage (Redis or the service's own)."""
        return redis_outage(error) or self.outage(error)

    async def run(
        self,
        *,
        message_id: str,
        deliveries: int,
        payload: str,
        decode: Callable[[], T],
        handle: Callable[[T], Awaitable[Any]],
    ) -> Outcome[Any]:
        """Decode the message and run the handler under the rule; returns once the message can be acked.

        Raises only CancelledError (shutdown: the message stays pending for a reclaim).
        """
        try:
            value = decode()
        except (ValidationError, ValueError, InvalidMessage) as exc:
            return await self._give_up(message_id, payload, exc, deliveries, None, retryable=False)
        if self.keepalive is None or not message_id:
            return await self._attempts(message_id, deliveries, payload, value, handle)
        keeper = asyncio.create_task(self._keep_alive(message_id))
        try:
            return await self._attempts(message_id, deliveries, payload, value, handle)
        finally:
            keeper.cancel()

    async def _keep_alive(self, message_id: str) -> None:
        assert self.keepalive is not None
        while True:
            await asyncio.sleep(self.keepalive_s)
            try:
                await self.keepalive(message_id)
            except Exception as exc:
                log.debug("keepalive failed", error=_short(exc))

    async def _attempts(
        self, message_id: str, deliveries: int, payload: str, value: T, handle: Callable[[T], Awaitable[Any]]
    ) -> Outcome[Any]:
        attempts = deliveries
        policy = Backoff(self.retry_initial_s, self.retry_cap_s)
        retry = 1
        while True:
            try:
                result = await handle(value)
            except asyncio.CancelledError:
                raise
            except self.permanent as exc:
                retryable = isinstance(exc, self.permanent_but_retryable)
                return await self._give_up(message_id, payload, exc, attempts, value, retryable=retryable)
            except Exception as exc:
                if self.is_outage(exc):
                    assert self.gate is not None
                    await self.gate.wait(exc)
                    continue
                self._gate_up()
                if attempts >= self.max_deliveries:
                    return await self._give_up(message_id, payload, exc, attempts, value, retryable=True)
                backoff = policy.delay(retry)
                log.warning("handling failed, will retry", error=_short(exc), attempts=attempts,
                            max_deliveries=self.max_deliveries, retry_in_s=backoff)
                await asyncio.sleep(backoff)
                retry += 1
                attempts += 1
                continue
            self._gate_up()
            return Outcome(result=result, attempts=attempts)

    def _gate_up(self) -> None:
        assert self.gate is not None
        self.gate.up()

    async def _give_up(
        self, message_id: str, payload: str, exc: BaseException, attempts: int, value: Any, *, retryable: bool
    ) -> Outcome[Any]:
        about = self.describe(value) if value is not None else {}
        event = describe_failure(
            service=self.service,
            stream=self.stream,
            message_id=message_id,
            payload=payload,
            error=exc,
            attempts=attempts,
            retryable=retryable,
            document_id=about.get("document_id"),
            original_name=about.get("original_name"),
        )
        # Dead-lettering is a Redis write too: an outage here waits like any other, never drops the message.
        while True:
            try:
                await self.dead_letter(event)
            except Exception as error:
                if not self.is_outage(error):
                    raise
                assert self.gate is not None
                await self.gate.wait(error)
                continue
            self._gate_up()
            break
        log.warning("message dead-lettered", reason=event.error[:300], error_type=event.error_type,
                    attempts=attempts, retryable=retryable)
        return Outcome(dead_lettered=event.error, attempts=attempts)
