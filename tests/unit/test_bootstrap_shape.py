"""One bootstrap shape for every service (docs/services.md): `bootstrap`, `start`, `close` in each
`services/<service>/bootstrap.py`, and an app factory that connects nothing and writes nothing when built."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

from shared.settings import Settings

SERVICES = ("ingest", "parser", "store", "alerts", "api")


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_is_wired_started_and_closed_by_the_same_three_functions(service: str) -> None:
    module = importlib.import_module(f"services.{service}.bootstrap")
    settings, *overrides = inspect.signature(module.bootstrap).parameters.values()
    assert settings.name == "settings"
    assert overrides and all(p.kind is p.KEYWORD_ONLY for p in overrides)  # tests pass fakes by name
    for name in ("start", "close"):
        function = getattr(module, name)
        assert inspect.iscoroutinefunction(function)
        assert list(inspect.signature(function).parameters) == ["deps"]
    app = importlib.import_module(f"services.{service}.app")
    assert list(inspect.signature(app.create_app).parameters) == ["settings", "deps"]


@pytest.mark.parametrize("service", SERVICES)
def test_building_an_app_connects_nothing_and_writes_nothing(service: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    # Port 1 and a database in a folder that does not exist: building would fail or make the folder if it
    # connected or wrote.
    settings = Settings(_env_file=None, redis_url="redis://127.0.0.1:1/0", data_dir=data)
    importlib.import_module(f"services.{service}.app").create_app(settings)
    assert not data.exists()
