"""The supervisor of `minutes up` when it cannot write Redis's config for a restart (ENOSPC, injected through
the embedded Redis's file writer: the failure that ended supervision in the adversary's run). The real services
and a real redis-server: the failed restart is said once and retried with backoff, a service killed meanwhile
is reaped and restarted, `/readyz` answers 503 with the reason, and when writes work again Redis is back and
every document dropped before and during the outage is announced exactly once; the lock is given up at stop."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import httpx
import pytest
from structlog.testing import capture_logs

from bench.corpus import generate_corpus
from minutes_cli.redis_supervision import SupervisedRedis
from minutes_cli.runlock import DataDirLock
from minutes_cli.supervisor import Stack
from shared.redis_server import CONFIG_FILE, write_private
from shared.settings import Settings
from tests.e2e.harness import drop_documents, read_decisions, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


class FullDisk:
    """The embedded Redis's file writer: fails like a full disk while `full` is set."""

    def __init__(self) -> None:
        self.full = False
        self.refused = 0

    def __call__(self, path: Path, text: str) -> None:
        if self.full:
            self.refused += 1
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        write_private(path, text)


def _zombie(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False  # gone: reaped
    return state == b"Z"


def _ready(api: str) -> tuple[int, str]:
    try:
        answer = httpx.get(f"{api}/readyz", timeout=5)
    except httpx.HTTPError as exc:
        return 0, str(exc)
    return answer.status_code, answer.json().get("detail", "")


def test_a_restart_that_cannot_write_its_config_is_retried_and_the_pipeline_heals(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", inbox=tmp_path / "inbox", parsers=1, api_port=0, _env_file=None)
    disk = FullDisk()
    env = {"MINUTES_SETTLE_S": "0.2", "MINUTES_RESCAN_INTERVAL_S": "2", "MINUTES_CLAIM_IDLE_MS": "2000",
           "MINUTES_LOG_FORMAT": "json"}
    lines: list[str] = []
    stack = Stack(settings, api=True, env=env, sink=lines.append,
                  redis_factory=lambda: SupervisedRedis(settings.data_dir, write_file=disk))
    before, during = generate_corpus(5, seed=7, pdf_share=0), generate_corpus(5, seed=7, pdf_share=0, start=5)
    url = stack.start()
    try:
        api = stack.wait_api(120)
        assert api is not None, lines[-20:]
        api = api.rstrip("/")
        assert stack.ingest_ready.wait(120)
        drop_documents(settings.inbox, before)
        first = sum(d.expected_decisions for d in before)
        wait_for(lambda: len(read_decisions(url)) >= first, 180, "the first decisions")
        wait_for(lambda: _ready(api)[0] == 200, 60, "ready")

        assert stack.redis is not None
        (stack.redis.server.data_dir / CONFIG_FILE).unlink()  # the restart has to write it, and cannot
        disk.full = True
        old_redis = stack.redis.pid
        assert old_redis is not None
        with capture_logs() as logs:
            stack.redis.kill()  # SIGKILL, not reaped here: the supervisor must
            wait_for(lambda: _ready(api)[0] == 503 and "its restart fails" in _ready(api)[1], 30, "/readyz to say why")
            _, detail = _ready(api)
            assert detail.startswith("pipeline: redis-server is down, its restart fails (OSError: [Errno 28] No space")
            # The process records cannot be written either (their folder is a file now): the restarted
            # parser runs unrecorded, said once, and is recorded on a later pass once the folder is back.
            run = settings.data_dir / "run"
            shutil.rmtree(run)
            run.write_text("not a folder")
            old_parser = stack.pid("parser-1")
            assert old_parser is not None
            stack.kill("parser-1")
            wait_for(lambda: stack.pid("parser-1") not in (None, old_parser), 30, "the parser restarted")
            assert not _zombie(old_parser) and not _zombie(old_redis)
            new_parser = stack.pid("parser-1")
            run.unlink()
            run.mkdir()
            wait_for(lambda: (run / "parser-1.json").exists()
                  and json.loads((run / "parser-1.json").read_text())["pid"] == new_parser, 10, "the parser's record")
            drop_documents(settings.inbox, during)  # ingest holds them while Redis is away
            wait_for(lambda: disk.refused >= 3, 30, "a few restart attempts")
            assert stack._monitor is not None and stack._monitor.is_alive()
            disk.full = False
            # Redis back, and the supervisor has said so (the line follows the restart: waiting for the pid
            # alone raced it, so the counts below could miss the line).
            wait_for(lambda: stack.redis is not None and stack.redis.pid not in (None, old_redis)
                     and any(e["event"] == "redis restart works again" for e in logs), 60, "redis back")
        said = [(e["log_level"], e["event"]) for e in logs]
        assert said.count(("error", "redis restart failed")) == 1, said  # once, though tried again and again
        assert said.count(("warning", "redis restart works again")) == 1, said
        assert ("error", "supervising failed") not in said
        assert said.count(("error", "recording a process in the data dir failed")) == 1, said
        assert said.count(("warning", "recording a process in the data dir works again")) == 1, said
        total = first + sum(d.expected_decisions for d in during)
        wait_for(lambda: len(read_decisions(url)) >= total, 240, "every decision announced")
        wait_for(lambda: _ready(api)[0] == 200, 60, "ready again")
        events = read_decisions(url)
        assert len(events) == len({e.event_id for e in events}) == total
        assert len({(e.document_id, e.item_number) for e in events}) == total
    finally:
        stack.stop()
    lock = DataDirLock(settings.data_dir, "test")
    lock.acquire()  # given up at stop
    lock.release()
