"""The browser tests' own set-up: without Chromium they fail in CI (never a silent skip) and skip elsewhere."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.timeout(120)


def _run(ci: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "MINUTES_TEST_CI")}
    env["MINUTES_TEST_CHROMIUM"] = "/nonexistent/chromium"
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/browser/test_web_page.py", "-k",
         "english", "-rfs"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=110,
    )


def test_a_missing_chromium_fails_in_ci_with_what_to_install() -> None:
    done = _run(ci=True)
    assert done.returncode == 1, done.stdout[-2000:]
    assert "CI=true: Chromium not found" in done.stdout and "apt-get install -y chromium" in done.stdout


def test_a_missing_chromium_skips_outside_ci() -> None:
    done = _run(ci=False)
    assert done.returncode == 0, done.stdout[-2000:]
    assert "1 skipped" in done.stdout and "Chromium not found" in done.stdout
