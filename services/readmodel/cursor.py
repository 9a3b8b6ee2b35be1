"""The opaque keyset cursor of the read API: the last row's sort keys, which query made it, a checksum.

Url-safe base64 (no padding) of JSON plus an 8-byte blake2b checksum. The checksum is not a secret: a
cursor only says where a query continues, and the keys are bound as parameters, so a forged one can only
choose a starting point. It makes an edited, truncated or mixed-up cursor fail with a clear message instead
of silently continuing somewhere else.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

import orjson


class CursorError(ValueError):
    """A cursor that was not made by this query: changed, truncated, or from another filter."""


_KEY = b"minutes-cursor-v1"
_MAC_BYTES = 8
AGAIN = "start again without a cursor"


def fingerprint(kind: str, query: Any) -> str:
    """Identifies the query a cursor belongs to (kind of list plus its filter, as JSON)."""
    body = orjson.dumps([kind, query], option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(body, digest_size=8).hexdigest()


def _mac(body: bytes) -> bytes:
    return hashlib.blake2b(body, key=_KEY, digest_size=_MAC_BYTES).digest()


def encode(fp: str, keys: list[Any]) -> str:
    """The cursor after a row whose sort keys are `keys` (JSON scalars), for the query `fp`."""
    body = orjson.dumps({"f": fp, "k": keys})
    return base64.urlsafe_b64encode(body + _mac(body)).rstrip(b"=").decode()


def decode(cursor: str, fp: str, arity: int) -> list[Any]:
    """The keys of a cursor made by `encode` for the query `fp`; CursorError otherwise."""
    if not cursor or len(cursor) > 2048:
        raise CursorError(f"the cursor is empty or too long: {AGAIN}")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError) as exc:
        raise CursorError(f"the cursor was changed or cut short (not base64): {AGAIN}") from exc
    body, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    if len(raw) <= _MAC_BYTES or _mac(body) != mac:
        raise CursorError(f"the cursor was changed or cut short: {AGAIN}")
    try:
        data = orjson.loads(body)
        keys = data["k"]
        made_for = data["f"]
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise CursorError(f"the cursor is not one this service made: {AGAIN}") from exc
    if made_for != fp:
        raise CursorError(f"the cursor belongs to another search or filter: {AGAIN}")
    if not isinstance(keys, list) or len(keys) != arity:
        raise CursorError(f"the cursor is not one this service made: {AGAIN}")
    return keys
