"""A polite HTTP client for agenda portals: one request at a time per host, spaced, identified, bounded.

Portals are municipal web servers run for citizens, not for us. So: never two requests to one host at
once, at least `min_interval_s` between the start of two requests to it, a User-Agent naming the product
and a contact, conditional requests when the server gave validators (an unchanged meeting costs a 304),
one deadline for the whole request (connect, send and the complete answer — a server trickling a byte a
minute cannot hold a poll forever), a cap on the answer's size, and on 429 and 5xx a pause that honours
`Retry-After` before trying again. Connections go to checked addresses only (services/alerts/pinned.py):
non-global addresses (shared/urlsafety.py) are refused unless MINUTES_ALLOW_PRIVATE_URLS is set.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from services.alerts.pinned import PinnedTransport
from shared.settings import Settings
from shared.urlsafety import UrlRefused

PRODUCT = "minutes"
RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})
# A Retry-After longer than this is not waited for inside one poll: the poll gives up and tries later.
MAX_RETRY_AFTER_S = 300.0


class FetchFailed(Exception):
    """A request that did not give a usable answer after its tries; the message says what went wrong."""

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Validators:
    """What a server said identifies a version of a resource (sent back as If-None-Match / If-Modified-Since)."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Answer:
    """A complete answer: 200 with its body, or 304 (not modified, empty body)."""

    status: int
    body: bytes
    validators: Validators
    url: str

    @property
    def not_modified(self) -> bool:
        """The server says the version we hold is current."""
        return self.status == 304


def user_agent(contact: str) -> str:
    """`minutes/<version> (+contact)`: who is asking, and how to reach them."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        ours = version("minutes")
    except PackageNotFoundError:
        ours = "dev"
    return f"{PRODUCT}/{ours} (agenda portal follower; +{contact or 'no contact configured'})"


def retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())


class PoliteClient:
    """GETs for one process; use as an async context manager. Thread-unsafe, task-safe."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        backoff_initial_s: float = 1.0,
    ) -> None:
        self.min_interval_s = settings.sources_min_interval_s
        self.timeout_s = settings.sources_timeout_s
        self.max_bytes = int(settings.sources_max_response_mb * 1024 * 1024)
        self.attempts = settings.sources_attempts
        self.backoff_initial_s = backoff_initial_s
        self._sleep = sleep
        self._locks: dict[str, asyncio.Lock] = {}
        self._last_start: dict[str, float] = {}
        self.requests = 0  # made, tries included (shown by tests and logs)
        self._client = httpx.AsyncClient(
            transport=transport or PinnedTransport(allow_private=settings.allow_private_urls, what="source host"),
            headers={"User-Agent": user_agent(settings.sources_contact), "Accept": "application/json"},
            follow_redirects=False,  # a redirect could lead anywhere; the checked URL is the one asked
            trust_env=False,
        )

    async def __aenter__(self) -> PoliteClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections."""
        await self._client.aclose()

    async def get(self, url: str, validators: Validators | None = None) -> Answer:
        """GET `url`: 200 or 304, after up to `attempts` tries; FetchFailed otherwise."""
        host = urlsplit(url).netloc
        lock = self._locks.setdefault(host, asyncio.Lock())
        backoff = self.backoff_initial_s
        last = "no attempt"
        hint: float | None = None
        for attempt in range(1, self.attempts + 1):
            async with lock:  # one request at a time per host, the pause included
                await self._space(host)
                try:
                    answer = await asyncio.wait_for(self._once(url, validators), self.timeout_s)
                except TimeoutError:
                    last, hint = f"no complete answer within {self.timeout_s:g}s", None
                except UrlRefused:
                    raise
                except httpx.HTTPError as exc:
                    last, hint = f"{type(exc).__name__}: {exc}".rstrip(": "), None
                except _Status as exc:
                    if exc.status not in RETRYABLE:
                        raise FetchFailed(f"HTTP {exc.status} from {url}") from None
                    last, hint = f"HTTP {exc.status}", exc.retry_after_s
                else:
                    return answer
            if attempt == self.attempts:
                break
            wait = backoff if hint is None else hint
            if wait > MAX_RETRY_AFTER_S:
                break  # the server asks for a long pause: honoured by retrying the whole poll later
            await self._sleep(wait)
            backoff *= 2
        raise FetchFailed(f"{last} from {url} ({attempt} tries)", retry_after_s=hint)

    async def _space(self, host: str) -> None:
        last = self._last_start.get(host)
        if last is not None:
            wait = self.min_interval_s - (time.monotonic() - last)
            if wait > 0:
                await self._sleep(wait)
        self._last_start[host] = time.monotonic()

    async def _once(self, url: str, validators: Validators | None) -> Answer:
        self.requests += 1
        headers = {}
        if validators and validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators and validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        async with self._client.stream("GET", url, headers=headers) as response:
            got = Validators(response.headers.get("etag"), response.headers.get("last-modified"))
            if response.status_code == 304:
                return Answer(304, b"", validators or got, url)
            if response.status_code != 200:
                raise _Status(response.status_code, retry_after(response.headers.get("retry-after")))
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > self.max_bytes:
                raise FetchFailed(f"answer of {declared} bytes from {url} is over the limit of {self.max_bytes}")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise FetchFailed(f"answer from {url} is over the limit of {self.max_bytes} bytes")
                chunks.append(chunk)
            return Answer(200, b"".join(chunks), got, url)


class _Status(Exception):
    def __init__(self, status: int, retry_after_s: float | None) -> None:
        super().__init__(status)
        self.status = status
        self.retry_after_s = retry_after_s
