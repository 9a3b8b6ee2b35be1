"""Any file name the OS can hold is ingested: a Latin-1 name from a Windows share keeps its bytes on disk
and its letters in the event; with MINUTES_MOVE_PROCESSED it is moved under its own name."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from redis.asyncio import Redis

from services.ingest.app import create_app
from tests.integration.ingest.helpers import count_is, dead_letters, documents, eventually, make_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

LATIN1 = "Referat Økonomiudvalget 2024.txt".encode("latin-1")  # b"Referat \xd8konomiudvalget 2024.txt"


async def test_a_latin1_file_name_is_ingested_and_moved_under_its_own_bytes(
    tmp_path: Path, redis_url: str, redis_client: Redis
) -> None:
    settings = make_settings(tmp_path, redis_url, move_processed=True)
    settings.inbox.mkdir(parents=True)
    data = "Referat fra Økonomiudvalget".encode()
    path = os.fsencode(settings.inbox) + b"/" + LATIN1
    Path(os.fsdecode(path)).write_bytes(data)  # noqa: ASYNC240 - one small file before the app starts
    async with create_app(settings):
        await eventually(lambda: count_is(redis_client, 1))
        processed = os.fsencode(settings.inbox / "processed") + b"/" + LATIN1

        async def moved() -> bool:
            return os.path.exists(processed)  # noqa: ASYNC240 - a stat

        await eventually(moved)
    [doc] = await documents(redis_client)
    assert doc.original_name == "Referat Økonomiudvalget 2024.txt"
    assert doc.document_id == hashlib.sha256(data).hexdigest()
    assert await dead_letters(redis_client) == []
    assert not os.path.exists(path)  # noqa: ASYNC240 - a stat
