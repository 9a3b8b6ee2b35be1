"""docker compose, run for real: the compose steps of docs/compose.md as written, then faults, a restart, worker hosts.

Run by `./dev compose-test` (CI: a stage of .ci/run after the main suite), after tests/compose/setup.sh has
made Docker, Compose v2 and the offline images available; it fails, never skips, when Docker is not there.
The file is not named test_*.py so the main suite does not collect it.

Everything runs in a copy of the repository's tracked files (a fresh clone, as a new user has it). The only
differences from the README are in the environment: COMPOSE_FILE adds tests/compose/compose.offline.yml
(images built here instead of pulled), DOCKER_BUILDKIT=0 and COMPOSE_PARALLEL_LIMIT=1 (no buildx here), a
project name of its own, and PUBLISH_ADDRESS in .env set to the Docker bridge's address so that the second
"host" below can reach the published ports, as deploy/README.md says to do for worker hosts.
"""

from __future__ import annotations

import hashlib
import ipaddress
import itertools
import json
import os
import re
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "tests" / "fixtures" / "corpus" / "seeds"
GOLD = ROOT / "tests" / "fixtures" / "corpus" / "gold"
PROJECT = "minutes-e2e"
WORKER_PROJECT = "minutes-e2e-worker"
OFFLINE = "tests/compose/compose.offline.yml"
WORKER = "deploy/compose.worker-host.yml"
DECISIONS = "minutes:decisions"
WAIT_S = 300.0


def _readme_blocks(path: Path) -> dict[str, str]:
    """The shell blocks of a README marked `<!-- compose-e2e: NAME -->`, by name."""
    text = path.read_text(encoding="utf-8")
    found = re.findall(r"<!-- compose-e2e: ([\w-]+) -->\s*```sh\n(.*?)```", text, re.S)
    return dict(found)


class Stack:
    """A copy of the repository and the commands run in it, with the environment described above."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.env = {
            **os.environ,
            "DOCKER_BUILDKIT": "0",
            "COMPOSE_PARALLEL_LIMIT": "1",
            "COMPOSE_FILE": f"docker-compose.yml:{OFFLINE}",
            "COMPOSE_PROJECT_NAME": PROJECT,
        }

    def sh(self, script: str, timeout: float = 1200, env: dict[str, str] | None = None) -> str:
        """Run a shell script in the copy; its output is returned, and shown in full when it fails."""
        started = time.monotonic()
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=self.work,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        print(f"--- ({time.monotonic() - started:.0f} s) {script.strip()[:200]}\n{result.stdout[-3000:]}")
        assert result.returncode == 0, f"exit {result.returncode}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        return result.stdout

    def readme(self, name: str, env: dict[str, str] | None = None, path: str = "docs/compose.md") -> str:
        """Run the README's block `name` as written."""
        blocks = _readme_blocks(self.work / path)
        assert name in blocks, f"{path} has no block <!-- compose-e2e: {name} -->"
        return self.sh(blocks[name], env=env)

    def dotenv(self) -> dict[str, str]:
        pairs = (line.split("=", 1) for line in (self.work / ".env").read_text().splitlines() if "=" in line)
        return {k.strip(): v.strip() for k, v in pairs if not k.lstrip().startswith("#")}

    def redis(self) -> redis.Redis:
        env = self.dotenv()
        return redis.Redis(
            host=env["PUBLISH_ADDRESS"], port=int(env["REDIS_PORT"]), password=env["REDIS_PASSWORD"], socket_timeout=10
        )

    def containers(self, project: str, service: str) -> list[str]:
        out = self.sh(f"docker ps -q --filter label=com.docker.compose.project={project} "
                      f"--filter label=com.docker.compose.service={service}")
        return out.split()

    def long_running(self) -> list[str]:
        """Services the compose files keep running (restart policy), read from Compose's own view."""
        config = json.loads(self.sh("docker compose config --format json"))
        return sorted(n for n, s in config["services"].items() if s.get("restart", "no") != "no")

    def wait_healthy(self, timeout_s: float = 0.0) -> None:
        """Every long-running service's containers healthy, within `timeout_s` (0: already now)."""
        deadline = time.monotonic() + timeout_s
        for service in self.long_running():
            for cid in self.containers(PROJECT, service):
                while True:
                    state = self.sh(f"docker inspect -f '{{{{.State.Health.Status}}}}' {cid}").strip()
                    if state == "healthy" or time.monotonic() >= deadline:
                        break
                    time.sleep(1)
                assert state == "healthy", (service, cid, state)


def bridge_address(stack: Stack) -> str:
    """The host's address on Docker's default bridge (older engines leave Gateway empty: first of Subnet)."""
    (network,) = json.loads(stack.sh("docker network inspect bridge"))
    config = network["IPAM"]["Config"][0]
    return str(config.get("Gateway") or next(ipaddress.ip_network(config["Subnet"]).hosts()))


def expected_decisions(path: Path, seed: Path) -> set[tuple[str, int]]:
    """(document_id, item number) of every decision the gold annotation of `seed` has, for the file `path`."""
    gold = json.loads((GOLD / f"{seed.stem}.json").read_text(encoding="utf-8"))
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    decided = {item["number"] for item in gold["items"] if item["outcome"] != ["none"]}
    return {(sha, number) for number in decided & REVISED.get(path.name, decided)}


def decisions(client: redis.Redis) -> list[dict[str, Any]]:
    return [json.loads(fields[b"json"]) for _id, fields in client.xrange(DECISIONS)]


def wait_for(client: redis.Redis, wanted: set[tuple[str, int]], what: str) -> list[dict[str, Any]]:
    """Block on the stream until every wanted decision is there; then return the whole stream."""
    deadline = time.monotonic() + WAIT_S
    while True:
        events = decisions(client)
        missing = wanted - {(e["document_id"], e["item_number"]) for e in events}
        if not missing:
            return events
        assert time.monotonic() < deadline, f"{what}: {len(missing)} decisions missing after {WAIT_S:g} s"
        last = client.xrevrange(DECISIONS, count=1)
        client.xread({DECISIONS: last[0][0] if last else "0-0"}, block=5000)


def assert_each_once(events: list[dict[str, Any]]) -> None:
    keys = Counter((e["document_id"], e["item_number"]) for e in events)
    assert [k for k, n in keys.items() if n > 1] == [], "decisions announced more than once"
    assert len({e["event_id"] for e in events}) == len(events)


# Variant file name -> the item numbers whose decision it changed (only those are announced again).
REVISED: dict[str, set[int]] = {}
_VARIANT = itertools.count(2)  # module-wide, so no two phases of the test make the same bytes


def variants(seeds: list[Path], folder: Path, count: int) -> dict[Path, Path]:
    """`count` new documents made from the seeds: file -> its seed.

    Each is a new version of its seed's meeting whose every decision reads differently (a marker after the
    gold's decision text), so each announces every decision again, as a `DecisionRevised`; a version repeating
    its decisions would announce nothing (services/store/revisions.py), and a lost document would go unseen.
    """
    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    for n in range(count):
        seed = seeds[n % len(seeds)]
        tag = next(_VARIANT)
        text = seed.read_text(encoding="utf-8")
        gold = json.loads((GOLD / f"{seed.stem}.json").read_text(encoding="utf-8"))
        quoted = {i["number"]: i["decision_contains"] for i in gold["items"]
                  if i["outcome"] != ["none"] and i["decision_contains"]}
        # The gold quotes a decision on one line; the document may wrap it (and a few quotes are the gold's
        # words, not the document's: those items keep their decision, and are not expected again).
        pattern = {n: r"\s+".join(re.escape(w) for w in q.split()) for n, q in quoted.items()}
        found = {n for n, p in pattern.items() if re.search(p, text, re.IGNORECASE)}
        assert found, seed.name
        # One pass, longest first, so a short decision ("Godkendt") never splits a longer one containing it.
        either = "|".join(sorted({pattern[n] for n in found}, key=len, reverse=True))
        text = re.sub(either, lambda m, tag=tag: f"{m.group(0)} (udgave {tag})", text, flags=re.IGNORECASE)
        target = folder / f"{seed.stem}-v{tag}.txt"
        target.write_text(text, encoding="utf-8")
        made[target] = seed
        REVISED[target.name] = found
    return made


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    assert shutil.which("docker"), "docker is not installed: run tests/compose/setup.sh"
    info = subprocess.run(["docker", "info"], capture_output=True, text=True)
    assert info.returncode == 0, f"Docker is not running: {info.stderr}"
    work = tmp_path_factory.mktemp("clone")
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for rel in filter(None, files):
        source = ROOT / rel.decode()
        if source.is_file():
            (work / rel.decode()).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, work / rel.decode())
    stack = Stack(work)
    down = f"docker compose -p {WORKER_PROJECT} down -v --remove-orphans; docker compose down -v --remove-orphans"
    stack.sh(f"{down} || true")  # leftovers of an interrupted run
    try:
        yield stack
    finally:
        subprocess.run(["bash", "-c", f"docker compose logs --no-color --tail 40 > compose-logs.txt 2>&1; {down}"],
                       cwd=work, env=stack.env, timeout=300)


@pytest.fixture(scope="module")
def seeds() -> list[Path]:
    found = sorted(SEEDS.glob("*.txt"))
    assert len(found) >= 2
    return found


def test_readme_first_start(stack: Stack) -> None:
    stack.readme("configure")
    env = stack.dotenv()
    assert all(env[k] for k in ("REDIS_PASSWORD", "POSTGRES_PASSWORD", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"))
    # The second host reaches the published ports through the Docker bridge's address (see the docstring).
    bridge = bridge_address(stack)
    stack.sh(f"sed -i 's/^PUBLISH_ADDRESS=.*/PUBLISH_ADDRESS={bridge}/' .env")
    stack.readme("start")
    stack.wait_healthy()
    assert len(stack.containers(PROJECT, "parser")) == 2


def test_readme_inbox_drop_and_bucket_upload_become_decisions(stack: Stack, seeds: list[Path]) -> None:
    stack.readme("drop")
    stack.readme("upload")
    work_seeds = [stack.work / "tests/fixtures/corpus/seeds" / s.name for s in seeds[:2]]
    wanted = expected_decisions(work_seeds[0], seeds[0]) | expected_decisions(work_seeds[1], seeds[1])
    assert wanted
    events = wait_for(stack.redis(), wanted, "inbox drop and bucket upload")
    assert_each_once(events)
    # The README's own subscriber command shows them too.
    shown = stack.readme("subscribe")
    assert {e["event_id"] for e in events} <= set(re.findall(r'"event_id":\s*"([^"]+)"', shown))


def test_store_is_unhealthy_while_its_database_is_down(stack: Stack) -> None:
    stack.sh("docker compose stop postgres")
    try:
        # The store checks its database every few seconds; wait for it to notice (bounded).
        deadline = time.monotonic() + 120
        while True:
            result = subprocess.run(
                ["docker", "compose", "exec", "-T", "store", "minutes", "health", "store"],
                cwd=stack.work, env=stack.env, capture_output=True, text=True, timeout=120,
            )
            if result.returncode != 0 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert result.returncode == 1, result
        assert "unhealthy: database unreachable" in result.stderr
    finally:
        stack.sh("docker compose start postgres")
    # Docker may have marked the store unhealthy meanwhile (as it should): wait for its checks to pass again.
    stack.wait_healthy(WAIT_S)
    stack.sh("docker compose exec -T store minutes health store")


def test_a_killed_parser_loses_nothing(stack: Stack, seeds: list[Path]) -> None:
    client = stack.redis()
    before = decisions(client)
    # Enough documents that the run lasts a while: the victim must be caught holding some.
    docs = variants(seeds, stack.work / "staging-kill", 60)
    victim = stack.containers(PROJECT, "parser")[0]
    host = stack.sh(f"docker inspect -f '{{{{.Config.Hostname}}}}' {victim}").strip()
    for path in docs:  # write-then-rename into the inbox, as the README advises
        shutil.move(path, stack.work / "inbox" / path.name)
    # Kill the parser while it holds documents: its consumer has entries pending in the parser group.
    deadline = time.monotonic() + WAIT_S
    while True:
        pending = client.xpending_range("minutes:documents", "parser", "-", "+", 100)
        if any(host in p["consumer"].decode() for p in pending):
            break
        assert time.monotonic() < deadline, "the parser never had documents pending"
        time.sleep(0.02)
    stack.sh(f"docker kill {victim}")
    wanted = set().union(*(expected_decisions(stack.work / "inbox" / p.name, s) for p, s in docs.items()))
    events = wait_for(client, wanted | {(e["document_id"], e["item_number"]) for e in before}, "after docker kill")
    assert_each_once(events)
    stack.sh("docker compose up -d")  # the killed replica back (`docker kill` counts as a manual stop)
    stack.wait_healthy(WAIT_S)


def test_down_and_up_again_reannounces_nothing(stack: Stack, seeds: list[Path]) -> None:
    client = stack.redis()
    before = decisions(client)
    stack.sh("docker compose down")
    stack.sh("docker compose up -d")
    stack.wait_healthy(WAIT_S)
    client = stack.redis()
    # A new document after the restart: once its decisions are in, anything re-announced at start-up (the
    # store's outbox, ingest's start-up scan of the inbox) would already be in the stream before them.
    (marker, seed), = variants(seeds[2:3], stack.work / "staging-restart", 1).items()
    shutil.move(marker, stack.work / "inbox" / marker.name)
    new = expected_decisions(stack.work / "inbox" / marker.name, seed)
    events = wait_for(client, new, "after down/up")
    assert len(events) == len(before) + len(new)
    assert_each_once(events)


def test_worker_host_parsers_share_the_backfill(stack: Stack, seeds: list[Path]) -> None:
    env = stack.dotenv()
    worker = {
        "COMPOSE_FILE": f"docker-compose.yml:{OFFLINE}:{WORKER}",
        "COMPOSE_PROJECT_NAME": WORKER_PROJECT,
        "SHARED_HOST": env["PUBLISH_ADDRESS"],
        "WORKER_PARSERS": "2",
    }
    stack.readme("worker-host", env=worker, path="deploy/README.md")
    workers = stack.containers(WORKER_PROJECT, "parser")
    assert len(workers) == 2
    # Its own network: the worker's containers are not on the main project's network.
    nets = stack.sh(f"docker inspect -f '{{{{json .NetworkSettings.Networks}}}}' {workers[0]}")
    assert f"{PROJECT}_default" not in nets and f"{WORKER_PROJECT}_default" in nets
    parsers = stack.containers(PROJECT, "parser") + workers
    assert len(parsers) == 4
    client = stack.redis()
    before = decisions(client)
    since = stack.sh("date -u +%Y-%m-%dT%H:%M:%S").strip()
    docs = variants(seeds, stack.work / "backfill", 40)
    stack.readme("backfill")
    wanted = set().union(*(expected_decisions(p, s) for p, s in docs.items()))
    events = wait_for(client, wanted, "backfill")
    assert_each_once(events)
    # Beyond the expected: only revisions by the new documents (a decision the gold does not quote can still
    # read differently, when it contains another item's marked words).
    new_docs = {hashlib.sha256(p.read_bytes()).hexdigest() for p in docs}
    extra = [e for e in events[len(before):] if (e["document_id"], e["item_number"]) not in wanted]
    assert all(e["event"] == "DecisionRevised" and e["document_id"] in new_docs for e in extra), extra
    parsed = {cid: stack.sh(f"docker logs --since {since} {cid} 2>&1").count('"document parsed"') for cid in parsers}
    assert sum(parsed.values()) == len(docs), parsed
    assert all(n >= 1 for n in parsed.values()), f"a parser got no document: {parsed}"
