"""MINUTES_ALLOW_PRIVATE_URLS given to `minutes up` (a real process, its environment only) reaches every service
it starts: with it, the API takes a json:// Apprise subscription to a loopback receiver and the alerts worker
delivers there; restarted without it, the API refuses such a URL and the worker refuses to connect for the
subscription already stored, saying why on the attempt, and the receiver gets nothing more."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from bench.alerts import ReceiverThread
from shared.redis_server import free_port
from tests.conftest import SEEDS
from tests.e2e.harness import wait_for
from tests.integration.cli.helpers import Cli

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
TOKEN = "token-of-the-private-urls-test"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _up(tmp_path: Path, port: int, **env: str) -> Cli:
    cli = Cli(
        ["up", "--data", str(tmp_path / "data"), "--inbox", str(tmp_path / "inbox"), "--parsers", "1",
         "--api-port", str(port)],
        tmp_path,
        MINUTES_LOG_FORMAT="json", MINUTES_API_TOKEN=TOKEN, MINUTES_ALERTS_POLL_S="0.2", MINUTES_SETTLE_S="0.2",
        **env,
    )
    try:
        cli.wait_for(lambda: any("minutes is up" in ln for ln in cli.err) or cli.proc.poll() is not None, 240, "up")
        assert cli.proc.poll() is None, cli.err[-20:]
    except BaseException:
        cli.close()
        raise
    return cli


def _drop(tmp_path: Path, seed: Path) -> None:
    staging = tmp_path / "staging"
    staging.mkdir(exist_ok=True)
    shutil.copyfile(seed, staging / seed.name)
    shutil.move(str(staging / seed.name), tmp_path / "inbox" / seed.name)


def test_the_setting_on_the_cli_reaches_the_api_and_the_alerts_worker(tmp_path: Path) -> None:
    seeds = sorted(SEEDS.glob("*.txt"))
    port = free_port()
    api = f"http://127.0.0.1:{port}"
    with ReceiverThread() as receiver:
        url = f"json://127.0.0.1:{receiver.port}/hook"
        allowing = _up(tmp_path, port, MINUTES_ALLOW_PRIVATE_URLS="true")
        try:
            created = httpx.post(f"{api}/api/v1/subscriptions", json={"channel": "apprise", "url": url},
                                 headers=AUTH, timeout=30)
            assert created.status_code == 201, created.text
            sub_id = created.json()["id"]
            _drop(tmp_path, seeds[0])
            wait_for(lambda: len(receiver.got) >= 1, 120, "a notification at the loopback receiver")
        finally:
            allowing.close()
        delivered = len(receiver.got)
        assert b'"title"' in receiver.got[0][1] and b'"message"' in receiver.got[0][1]  # Apprise's JSON body

        strict = _up(tmp_path, port)
        try:
            refused = httpx.post(f"{api}/api/v1/subscriptions", json={"channel": "apprise", "url": url},
                                 headers=AUTH, timeout=30)
            assert refused.status_code == 400, refused.text
            assert "127.0.0.1, loopback" in refused.json()["error"]
            assert "MINUTES_ALLOW_PRIVATE_URLS=true" in refused.json()["error"]

            def refusals() -> list[dict[str, object]]:
                answer = httpx.get(f"{api}/api/v1/subscriptions/{sub_id}/attempts", headers=AUTH, timeout=30)
                return [a for a in answer.json() if str(a["error"] or "").startswith("refused: ")]

            _drop(tmp_path, seeds[1])
            wait_for(lambda: bool(refusals()), 120, "the alerts worker to refuse the loopback notification")
            (first, *_) = refusals()
            assert "the notification connects to 127.0.0.1, loopback" in str(first["error"])
        finally:
            strict.close()
        assert len(receiver.got) == delivered  # nothing reached the receiver without the setting
