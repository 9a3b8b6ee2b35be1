"""The outermost layer of the app (pure ASGI): request caps, security headers, and the last word on errors.

- A read-only API takes no bodies and bounded request targets: 405 for writes, 414 for a path + query over
  the cap, 413 for a body over it — before any routing.
- An unexpected exception becomes a one-line 500 (503 when the database is unavailable) here, so it never
  reaches Starlette's or uvicorn's error pages and log records; the log gets a short traceback string.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, MutableMapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from services.store.db import is_db_unavailable
from shared.logging import get_logger

log = get_logger(__name__)

Scope = dict[str, Any]

# The page loads only its own scripts and styles (htmx is vendored); nothing may frame it.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
# Swagger UI at /docs (services/api/apidocs.py) is vendored: scripts from this server only, as on the page; its
# components set inline styles, so only there are those allowed.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


WRITABLE_PREFIX = "/api/v1/subscriptions"
# The writable resources, each behind the bearer token its routes check: subscriptions and sources.
WRITABLE_PREFIXES = (WRITABLE_PREFIX, "/api/v1/sources")


def is_api_path(path: str) -> bool:
    """JSON answers (errors included) for the API and health checks; HTML for the page."""
    return path.startswith(("/api/", "/oparl/")) or path in ("/healthz", "/readyz", "/openapi.json")


def json_error(status: int, message: str) -> Response:
    """The body of every JSON error."""
    return Response(
        orjson.dumps({"error": message, "status": status}), status_code=status, media_type="application/json"
    )


class Guard:
    """ASGI middleware wrapping the whole app; `render_error(request, status, message)` draws HTML errors."""

    def __init__(self, app: Any, max_bytes: int, render_error: Callable[[Request, int, str], Response]) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.render_error = render_error

    def _error(self, scope: Scope, status: int, message: str) -> Response:
        if is_api_path(scope["path"]):
            return json_error(status, message)
        try:
            return self.render_error(Request(scope), status, message)
        except Exception:  # the error page itself failed: still one line, never a trace
            return json_error(status, message)

    def _refusal(self, scope: Scope) -> tuple[int, str] | None:
        target = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string", b""))
        # Subscriptions and sources are the writable resources (bearer token checked by their routes).
        path = scope["path"]
        writable = any(path == prefix or path.startswith(prefix + "/") for prefix in WRITABLE_PREFIXES)
        if scope["method"] not in ("GET", "HEAD", "OPTIONS") and not writable:
            return 405, "this API is read-only: only GET and HEAD"
        if target > self.max_bytes:
            return 414, f"request target longer than {self.max_bytes} bytes"
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            return 413, f"request body larger than {self.max_bytes} bytes"
        return None

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await json_error(*refusal)(scope, receive, send)
            return

        head = scope["method"] == "HEAD"
        if head:  # answered as the GET it asks about, without the body (and without producing all of it)
            scope = {**scope, "method": "GET"}
        started = False
        seen = 0
        csp = DOCS_CSP if scope["path"].startswith("/docs") else PAGE_CSP

        async def guarded_send(message: MutableMapping[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers") or [])
                names = {k.lower() for k, _ in headers}
                extra = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
                if any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers):
                    extra.append((b"content-security-policy", csp.encode()))
                headers += [(k, v) for k, v in extra if k not in names]
                message = {**message, "headers": headers}
            elif head and message["type"] == "http.response.body":
                await send({"type": "http.response.body", "body": b"", "more_body": False})
                raise _HeadDone
            await send(message)

        async def bounded_receive() -> Any:
            # A chunked body has no content-length: count what arrives and cut it off at the cap.
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, bounded_receive, guarded_send)
        except _HeadDone:
            return
        except _BodyTooLarge:
            if not started:
                await json_error(413, f"request body larger than {self.max_bytes} bytes")(scope, receive, send)
        except Exception as exc:
            # A short traceback string: the console renderer's rich traceback of an ASGI stack takes seconds.
            log.error(
                "request failed",
                path=scope["path"],
                error=f"{type(exc).__name__}: {exc}"[:500],
                traceback="".join(traceback.format_exception(exc, limit=-8)),
            )
            if started:
                return  # headers are out: the client sees a cut response, and the log says why
            if is_db_unavailable(exc):
                response = self._error(scope, 503, "the database is unavailable; try again shortly")
            else:
                response = self._error(scope, 500, "internal error; the server log has the details")
            await response(scope, receive, guarded_send)


class _BodyTooLarge(Exception):
    pass


class _HeadDone(Exception):
    """The headers of a HEAD request are out: stop producing the body."""
