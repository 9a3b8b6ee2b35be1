"""The one-shot backfill (`minutes ingest PATH...`) on a real Redis."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from redis.asyncio import Redis

from services.ingest.backfill import backfill
from services.ingest.handlers import IngestResult
from tests.integration.ingest.helpers import dead_letters, documents, make_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def _tree(root: Path, outside: Path) -> None:
    (root / "2023" / "q4").mkdir(parents=True)
    (root / "a.pdf").write_bytes(b"%PDF-1.7 a")
    (root / "2023" / "b.txt").write_text("Referat b")
    (root / "2023" / "q4" / "c æøå.html").write_text("<html>c</html>")
    (root / "2023" / "q4" / "copy of a.pdf").write_bytes(b"%PDF-1.7 a")
    (root / "2023" / "empty.txt").write_text("")
    (root / "2023" / "half.pdf.part").write_bytes(b"%PDF")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("x")
    (root / "link.txt").symlink_to(outside)
    (root / "linkdir").symlink_to(outside.parent, target_is_directory=True)


async def test_backfill_counts_and_never_moves(tmp_path: Path, redis_url: str, redis_client: Redis) -> None:
    settings = make_settings(tmp_path, redis_url, move_processed=True, move_rejected=True)
    outside = tmp_path / "outside" / "secret.txt"
    outside.parent.mkdir()
    outside.write_text("secret")
    root = tmp_path / "archive"
    _tree(root, outside)
    calls: list[tuple[int, int]] = []

    def progress(results: Sequence[IngestResult], total: int) -> None:
        calls.append((len(results), total))

    report = await backfill([root, tmp_path / "missing.pdf"], settings, progress)
    assert (report.total, report.new, report.known) == (8, 3, 1)
    reasons = {path.name: reason for path, reason in report.rejected}
    assert reasons["empty.txt"] == "empty file"
    assert reasons["link.txt"].startswith("symlink not followed")
    assert reasons["linkdir"].startswith("symlink not followed")
    assert reasons["missing.pdf"] == "no such file or folder"
    assert report.reasons()["symlink not followed"] == 2
    assert sum(n for n, _ in calls) == 8
    assert {total for _, total in calls} == {8}
    assert (root / "a.pdf").exists()
    assert (root / "2023" / "empty.txt").exists()
    assert len(await documents(redis_client)) == 3
    assert len(await dead_letters(redis_client)) == 3  # the missing path never existed: nothing to report

    again = await backfill([root], settings)
    assert (again.new, again.known, len(again.rejected)) == (0, 4, 3)
    assert len(await documents(redis_client)) == 3
    assert len(await dead_letters(redis_client)) == 3


async def test_backfill_of_single_files(tmp_path: Path, redis_url: str, redis_client: Redis) -> None:
    settings = make_settings(tmp_path, redis_url)
    one = tmp_path / "one.txt.tmp"  # named explicitly: taken even with a temporary-looking name
    one.write_text("Referat")
    report = await backfill([one, one], settings)
    assert (report.total, report.new) == (1, 1)
    [doc] = await documents(redis_client)
    assert doc.original_name == "one.txt.tmp"
