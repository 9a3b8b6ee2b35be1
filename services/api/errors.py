"""Expected errors as short JSON (the API) or a short page (the web page); unexpected ones: guard.py."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.api.guard import is_api_path


class ApiError(Exception):
    """An expected failure with the status and message the client should see."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers: dict[str, str] | None = None


def _is_api(request: Request) -> bool:
    return is_api_path(request.url.path)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "path", "body"))
        value = error.get("input")
        shown = f" (got {str(value)[:60]!r})" if isinstance(value, str | int | float) else ""
        parts.append(f"{where or 'request'}: {error.get('msg', 'invalid')}{shown}")
    return "; ".join(parts) or "invalid request"


def install(app: FastAPI, render_error: Any) -> None:
    """Register the handlers; `render_error(request, status, message)` draws the web page's error page."""

    def respond(request: Request, status: int, message: str, headers: dict[str, str] | None = None) -> Response:
        if _is_api(request) or render_error is None:
            return JSONResponse({"error": message, "status": status}, status_code=status, headers=headers)
        response: Response = render_error(request, status, message)
        if headers:
            response.headers.update(headers)
        return response

    @app.exception_handler(ApiError)
    async def on_api_error(request: Request, exc: ApiError) -> Response:
        return respond(request, exc.status, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> Response:
        return respond(request, 400, _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "error"
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such page: {request.url.path[:200]}"
        return respond(request, exc.status_code, message, getattr(exc, "headers", None))
