"""The address rule (shared/urlsafety.py) for connections a library opens by itself, checked at the socket.

Apprise sends with its own clients (requests for json://, form://, xml:// and most services; smtplib for
mailto://; others), and none takes a resolver or a connection factory that could be pinned to a checked
address as the webhook client is (services/alerts/pinned.py). Python's audit hooks see every
`socket.connect`, `sendto` and `sendmsg` with the address about to be used, after the name lookup. So the
check is on the very address: a name that resolves inward at delivery time (DNS rebinding), a redirect to
169.254.169.254, an `smtp=` host on loopback are refused alike, and the library sees a failed connection
(`ConnectRefused` is an OSError) while the reason is kept for the caller to record.

An audit hook is process-wide and cannot be removed, so it only acts inside `guarded(...)`, which sets a
context variable: Apprise runs its senders in threads with a copy of the caller's context (its
`contextvars.copy_context().run`), so they are inside too, while everything else of the process (Redis, the
database, other tasks) is untouched. A thread a library starts by itself does not inherit the context: the
Apprise services that do that (xmpp, mqtt) are refused by the subscription check unless private addresses are
allowed (services/alerts/urls.py).
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from shared.urlsafety import ALLOW_SETTING, why_not_global

_EVENTS = frozenset({"socket.connect", "socket.sendto", "socket.sendmsg"})


class ConnectRefused(PermissionError):
    """A connection the address rule refused (an OSError, so a library treats it as a failed connection)."""


@dataclass
class Scope:
    """One guarded call: the rule it runs under and what it refused."""

    allow_private: bool
    what: str = "host"
    refused: list[str] = field(default_factory=list)


_SCOPE: ContextVar[Scope | None] = ContextVar("minutes_connect_guard", default=None)
_installed = threading.Event()
_install_lock = threading.Lock()


def _why(sock: Any, address: Any) -> str | None:
    if address is None:  # sendmsg on a connected socket: its connect was checked
        return None
    family = getattr(sock, "family", None)
    if family in (socket.AF_INET, socket.AF_INET6):
        host = str(address[0])
        try:
            why = why_not_global(ipaddress.ip_address(host.split("%", 1)[0]))
        except ValueError:
            # Python resolves a name given to connect() itself, after this hook: the address is not known here.
            return f"a connection to {host!r} by name, which cannot be checked"
        return f"{host}, {why}" if why else None
    if family == socket.AF_UNIX:
        return f"the local socket {address!r}"
    return f"a {getattr(family, 'name', family)} socket"


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event not in _EVENTS:  # every audited event of the process comes here: the cheap test first
        return
    scope = _SCOPE.get()
    if scope is None or scope.allow_private:
        return
    why = _why(args[0], args[1] if len(args) > 1 else None)
    if why is not None:
        reason = f"the {scope.what} connects to {why} (set {ALLOW_SETTING}=true to allow it)"
        scope.refused.append(reason)
        raise ConnectRefused(reason)


def install() -> None:
    """Add the audit hook to this process (once; it stays for the life of the process, idle outside a scope)."""
    with _install_lock:
        if not _installed.is_set():
            sys.addaudithook(_hook)
            _installed.set()


@contextlib.contextmanager
def guarded(*, allow_private: bool, what: str = "host") -> Iterator[Scope]:
    """Every socket connection made in this context (and in threads run with a copy of it) obeys the rule."""
    install()
    scope = Scope(allow_private=allow_private, what=what)
    token = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(token)
