"""The corpus scorer (`tests/fixtures/score_minutes.py`, a copy of the shared tool), loaded once for every test."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

SCORER_PATH = Path(__file__).resolve().parents[2] / "fixtures" / "score_minutes.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("score_minutes", SCORER_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SCORER = _load()
