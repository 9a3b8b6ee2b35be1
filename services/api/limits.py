"""Request caps, before any routing: a read-only API takes no bodies and bounded request targets."""

from __future__ import annotations

from typing import Any

import orjson

Scope = dict[str, Any]


def _reply(status: int, message: str) -> list[dict[str, Any]]:
    body = orjson.dumps({"error": message, "status": status})
    return [
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        },
        {"type": "http.response.body", "body": body},
    ]


class RequestLimits:
    """ASGI middleware: 414 for a path + query over `max_bytes`, 413 for a body over it, 405 for writes."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        target = len(scope.get("raw_path") or scope["path"].encode()) + len(scope.get("query_string", b""))
        problem: tuple[int, str] | None = None
        if scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            problem = (405, "this API is read-only: only GET and HEAD")
        elif target > self.max_bytes:
            problem = (414, f"request target longer than {self.max_bytes} bytes")
        else:
            length = dict(scope.get("headers") or []).get(b"content-length")
            if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
                problem = (413, f"request body larger than {self.max_bytes} bytes")
        if problem is not None:
            for message in _reply(*problem):
                await send(message)
            return

        seen = 0

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
            await self.app(scope, bounded_receive, send)
        except _BodyTooLarge:
            for message in _reply(413, f"request body larger than {self.max_bytes} bytes"):
                await send(message)


class _BodyTooLarge(Exception):
    pass
