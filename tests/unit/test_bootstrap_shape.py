"""One bootstrap shape for every service (docs/services.md): `bootstrap`, `start`, `close` in each
`services/<service>/bootstrap.py`, and an app factory that connects nothing and writes nothing when built."""

from __future__ import annotations

import ast
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


ROOT = Path(__file__).resolve().parents[2]
# Where the schema may be changed: Alembic's upgrade inside `migrate`, and the `minutes migrate` command
# (which `minutes up` and compose's migrate service run).
MIGRATING = {"services/store/db.py": {"upgrade"}, "minutes_cli/main.py": {"run_migrate"}}


def test_only_the_migrate_step_migrates() -> None:
    found: dict[str, set[str]] = {}
    for folder in ("services", "shared", "minutes_cli"):
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" in path.parts:  # the revisions themselves
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                    # Alembic's `command.upgrade` / `command.stamp`, or `db.migrate`.
                    name = func.attr if func.value.id in ("command", "db") else ""
                else:  # `migrate` imported from services.store.db (the CLI names it `run_migrate`)
                    name = getattr(func, "id", "")
                    name = name if name in ("migrate", "run_migrate") else ""
                if name in ("migrate", "run_migrate", "upgrade", "stamp"):
                    found.setdefault(path.relative_to(ROOT).as_posix(), set()).add(name)
    assert found == MIGRATING
