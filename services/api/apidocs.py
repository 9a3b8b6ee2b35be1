"""`/docs`: the API's interactive documentation (Swagger UI), served from this server only, so it renders offline.

Swagger UI is vendored in `static/` (where it came from and its hashes: static/VERSIONS.md); the page loads each
file with its Subresource Integrity, computed from the file at first use, and its Content-Security-Policy
(services/api/guard.py) allows scripts and styles from this server only.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from html import escape

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from services.api.web import STATIC

router = APIRouter(include_in_schema=False)

# The page's files, in the order the page loads them.
STYLES = ("swagger-ui.css",)
SCRIPTS = ("swagger-ui-bundle.js", "swagger-ui-init.js")


@lru_cache(maxsize=8)
def integrity(name: str) -> str:
    """The Subresource Integrity (sha384) of a file in static/."""
    digest = hashlib.sha384((STATIC / name).read_bytes()).digest()
    return "sha384-" + base64.b64encode(digest).decode()


def docs_html(title: str, openapi_url: str) -> str:
    """The page: the vendored styles and scripts with their integrity, and the element Swagger UI fills."""
    styles = "\n".join(
        f'  <link rel="stylesheet" href="/static/{n}" integrity="{integrity(n)}" crossorigin="anonymous">'
        for n in STYLES
    )
    scripts = "\n".join(
        f'  <script src="/static/{n}" integrity="{integrity(n)}" crossorigin="anonymous" defer></script>'
        for n in SCRIPTS
    )
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{escape(title)} — API documentation</title>
{styles}
</head>
<body>
  <div id="swagger-ui" data-openapi="{escape(openapi_url)}"></div>
  <noscript>The interactive documentation needs JavaScript; the spec itself is at
    <a href="{escape(openapi_url)}">{escape(openapi_url)}</a>.</noscript>
{scripts}
</body>
</html>
"""


@router.get("/docs", response_class=HTMLResponse)
async def docs() -> HTMLResponse:
    """Swagger UI on the app's OpenAPI document."""
    from services.api.app import OPENAPI_URL, TITLE

    return HTMLResponse(docs_html(TITLE, OPENAPI_URL), headers={"Cache-Control": "no-cache"})
