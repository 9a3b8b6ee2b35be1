"""The app factory: nothing connects, the AsyncAPI document declares the DocumentReceived publisher."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.ingest.app import create_app
from shared import streams
from shared.broker import RedisNotConfigured
from shared.settings import Settings


def test_create_app_connects_nothing_and_documents_the_publisher(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, redis_url="redis://127.0.0.1:1/0", data_dir=tmp_path)
    app = create_app(settings)  # port 1: would fail if it connected
    spec = json.loads(app.schema.to_specification().to_json())
    channels = {channel["address"]: channel for channel in spec["channels"].values()}
    # DocumentReceived to the parsers; DeadLettered for the files it rejects.
    assert set(channels) == {streams.DOCUMENTS, streams.DEAD_LETTER}
    assert {channel["bindings"]["redis"]["method"] for channel in channels.values()} == {"xadd"}
    assert {operation["action"] for operation in spec["operations"].values()} == {"send"}
    assert {"DocumentReceived", "DeadLettered"} <= set(spec["components"]["schemas"])


def test_create_app_without_redis_says_so(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, redis_url=None, data_dir=tmp_path)
    with pytest.raises(RedisNotConfigured):
        create_app(settings)
