"""`./dev test` sets up and uses an environment of its own (.venv-test): a `./dev up` running from .venv is not
touched — no sync, no reinstall — while the tests set up and run. The script runs for real (sh), with a
stand-in `uv` in `.tools/bin` that logs what it is asked and makes environments of stand-in tools."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

UV = """#!/bin/sh
echo "uv $*" >> "$DEV_LOG"
if [ "$1" = venv ]; then
    for last; do :; done
    mkdir -p "$last/bin"
    for tool in python ruff mypy pytest minutes; do
        printf '#!/bin/sh\\necho "%s $*" >> "$DEV_LOG"\\n' "$last/bin/$tool" > "$last/bin/$tool"
        chmod +x "$last/bin/$tool"
    done
fi
"""


def _tree(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()
    }


def _checkout(tmp_path: Path) -> Path:
    work = tmp_path / "checkout"
    work.mkdir()
    for name in ("dev", "pyproject.toml", "requirements.lock", "requirements-dev.lock"):
        shutil.copy2(ROOT / name, work / name)
    uv = work / ".tools" / "bin" / "uv"
    uv.parent.mkdir(parents=True)
    uv.write_text(UV, encoding="utf-8")
    uv.chmod(uv.stat().st_mode | stat.S_IXUSR)
    return work


def _dev(work: Path, log: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEV_LOG": str(log)}
    return subprocess.run(["sh", "dev", *args], cwd=work, env=env, capture_output=True, text=True, timeout=60)


def test_dev_test_leaves_the_running_environment_alone(tmp_path: Path) -> None:
    work = _checkout(tmp_path)
    log = tmp_path / "log"
    # What `./dev up` made and runs from: its environment, synced to the runtime lock.
    up = _dev(work, log, "minutes", "up")
    assert up.returncode == 0, up.stderr
    assert ".venv/bin/minutes up" in log.read_text().splitlines()
    running = _tree(work / ".venv")
    log.write_text("")

    done = _dev(work, log, "test", "-q", "tests/unit")
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines()
    uv_calls = [c for c in calls if c.startswith("uv ")]
    assert uv_calls and all(".venv-test" in c for c in uv_calls), uv_calls
    compiles = [c for c in calls if " -m compileall " in c]
    assert compiles and all(c.startswith(".venv-test/bin/python ") for c in compiles), compiles
    assert [c for c in calls if not c.startswith("uv ") and c not in compiles] == [
        ".venv-test/bin/ruff check .",
        ".venv-test/bin/mypy ",
        ".venv-test/bin/pytest -q tests/unit",
    ]
    assert (work / ".venv-test" / ".synced").read_text().startswith("requirements-dev.lock ")
    assert _tree(work / ".venv") == running  # not a byte, not a timestamp changed

    # Synced once: the next run goes straight to the tools.
    log.write_text("")
    again = _dev(work, log, "test")
    assert again.returncode == 0, again.stderr
    assert not [c for c in log.read_text().splitlines() if c.startswith("uv ")]
