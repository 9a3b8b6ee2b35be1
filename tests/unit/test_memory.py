"""The API runs its Python objects on glibc's malloc (shared/memory.py): `use_system_malloc` re-executes the
same command line, same pid, with PYTHONMALLOC=malloc, and leaves a process alone whose environment already
names an allocator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared import memory

pytestmark = pytest.mark.skipif(memory._libc() is None, reason="not glibc: nothing is switched")

# Prints the allocator setting and the pid, then CPython's allocator statistics (on stderr): pymalloc's
# arenas are listed only when pymalloc is the allocator.
CHILD = (
    "import os, sys; from shared.memory import use_system_malloc; use_system_malloc(); "
    "print(os.environ.get('PYTHONMALLOC'), os.getpid(), sys.argv[1:]); sys._debugmallocstats()"
)


def _run(**env: str) -> tuple[subprocess.Popen[str], str, str]:
    base = {k: v for k, v in os.environ.items() if k != "PYTHONMALLOC"}
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, "kept", "--args"], env={**base, **env}, cwd=Path(__file__).parents[2],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return proc, out, err


def test_the_process_reruns_itself_on_glibc_malloc_with_the_same_pid_and_arguments() -> None:
    proc, out, err = _run()
    assert out.split(maxsplit=2) == ["malloc", str(proc.pid), "['kept', '--args']\n"]
    assert "arenas allocated" not in err


def test_an_allocator_the_environment_names_is_kept() -> None:
    proc, out, err = _run(PYTHONMALLOC="pymalloc")
    assert out.split(maxsplit=1) == ["pymalloc", f"{proc.pid} ['kept', '--args']\n"]
    assert "arenas allocated" in err
