"""One-shot ingest of files and folders (`minutes ingest PATH...`): same rules and events as the watcher."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from redis.asyncio import Redis

from services.ingest import files
from services.ingest.bootstrap import bootstrap, build_broker
from services.ingest.handlers import IngestResult, ingest_many
from shared.blobs import BlobStore
from shared.broker import ensure_groups, resolve_redis_url
from shared.logging import get_logger
from shared.settings import Settings

CHUNK = 200
# Closing the broker and the client at the end: bounded, so a frozen Redis does not hold up a Ctrl-C.
CLOSE_TIMEOUT_S = 5.0

log = get_logger(__name__)

Progress = Callable[[Sequence[IngestResult], int], None]


@dataclass
class BackfillReport:
    """Counts of one backfill, with the reason for every rejected file."""

    total: int = 0
    new: int = 0
    known: int = 0
    gone: int = 0
    rejected: list[tuple[Path, str]] = field(default_factory=list)
    # Ids of the documents this run published: whose parse verdicts `minutes ingest` waits for.
    new_ids: dict[str, Path] = field(default_factory=dict)

    def add(self, results: Sequence[IngestResult]) -> None:
        """Count a chunk of results."""
        for result in results:
            if result.status == "new":
                self.new += 1
                if result.document_id:
                    self.new_ids[result.document_id] = result.path
            elif result.status == "known":
                self.known += 1
            elif result.status == "gone":
                self.gone += 1
            else:
                self.rejected.append((result.path, result.reason or "rejected"))

    @property
    def done(self) -> int:
        """Files handled so far."""
        return self.new + self.known + self.gone + len(self.rejected)

    def reasons(self) -> Counter[str]:
        """How many files were rejected for each reason (symlink targets folded together)."""
        return Counter(reason.split(" (points to")[0] for _, reason in self.rejected)


def collect(paths: Sequence[Path]) -> tuple[list[Path], list[IngestResult]]:
    """The files to ingest (folders walked recursively, temp and hidden names skipped) and missing paths."""
    found: list[Path] = []
    missing: list[IngestResult] = []
    for given in paths:
        path = Path(given).absolute()
        if path.is_dir() and not path.is_symlink():
            found.extend(_walk(path))
        elif path.exists() or path.is_symlink():
            # An explicitly named file is taken even with a temp-like name; symlinks are still rejected.
            found.append(path)
        else:
            missing.append(IngestResult(path, "rejected", reason="no such file or folder"))
    return sorted(dict.fromkeys(found)), missing


def _walk(root: Path) -> list[Path]:
    out: list[Path] = []
    for folder, dirnames, filenames in os.walk(root):  # never follows symlinked folders
        dirnames[:] = sorted(name for name in dirnames if not files.is_ignored_name(name))
        base = Path(folder)
        for name in filenames:
            if not files.is_ignored_name(name):
                out.append(base / name)
        # os.walk lists symlinks to folders as folders: keep them so they are reported, not silently skipped.
        out.extend(base / name for name in dirnames if (base / name).is_symlink())
    return out


async def backfill(
    paths: list[Path],
    settings: Settings,
    progress: Progress | None = None,
    *,
    blobs: BlobStore | None = None,
    report: BackfillReport | None = None,
) -> BackfillReport:
    """Ingest the given files and folders once; `progress(results, total)` is called after each chunk.

    Counts go into `report` as chunks finish, so a caller that is interrupted still has the partial counts.
    """
    candidates, missing = await asyncio.to_thread(collect, paths)
    report = report if report is not None else BackfillReport()
    report.total = len(candidates) + len(missing)
    report.add(missing)
    if progress:
        progress(missing, report.total)  # also when empty: the bar learns the total before the first chunk
    if not candidates:
        return report
    redis_url = resolve_redis_url(settings)
    broker, publisher = build_broker(redis_url)
    client = Redis.from_url(redis_url)
    try:
        await broker.connect()
        await ensure_groups(client)
        # watch_inbox=False: a backfill never moves or deletes the user's files.
        deps = bootstrap(settings, redis=client, publisher=publisher, blobs=blobs, watch_inbox=False)
        for start in range(0, len(candidates), CHUNK):
            results = await ingest_many(candidates[start : start + CHUNK], deps)
            report.add(results)
            if progress:
                progress(results, report.total)
    finally:
        await _close_quietly(broker.stop(), "broker")
        await _close_quietly(client.aclose(), "redis client")
    return report


async def _close_quietly(closing: Awaitable[None], what: str) -> None:
    """Close without masking why the backfill ends: a Ctrl-C (the cancellation in flight, which the CLI turns
    into "interrupted" and exit code 130) or the error in hand must reach the caller, not a timeout of closing
    a connection to a Redis that is frozen or gone."""
    try:
        await asyncio.wait_for(closing, CLOSE_TIMEOUT_S)
    except Exception as exc:
        log.debug("closing after the backfill failed", what=what, error=f"{type(exc).__name__}: {exc}")
