"""docker-compose.yml: valid against the Compose Specification schema, and the topology the deployment promises."""

from __future__ import annotations

import enum
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker-compose.yml"
WORKER_OVERRIDE = ROOT / "deploy" / "compose.worker-host.yml"
ENV_EXAMPLE = ROOT / ".env.example"
SCHEMA = ROOT / "tests" / "fixtures" / "compose-spec.json"

APP_SERVICES = {"ingest": "ingest", "parser": "parser", "store": "store", "api": "api", "alerts": "alerts"}
SERVICE_SUBCOMMANDS = {"ingest", "parser", "store", "api", "alerts"}
# Services of the pipeline, which all need Redis; the API reads only the database and the blob bucket.
PIPELINE = {"ingest", "parser", "store"}
INFRA = {"redis", "postgres", "s3"}
ONE_SHOT = {"create-bucket", "migrate"}
# ${VAR}, ${VAR:-default}, ${VAR:?message}, ... (`$$` is an escaped dollar, not a variable)
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")


class ComposeLoader(yaml.SafeLoader):
    """YAML loader that also accepts Compose's merge tags (`!reset`, `!override`) as plain values."""


def _tagged(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


ComposeLoader.add_constructor("!reset", _tagged)
ComposeLoader.add_constructor("!override", _tagged)


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=ComposeLoader)
    return data


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load(COMPOSE)


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = compose["services"]
    return result


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    result: dict[str, Any] = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return result


def env_of(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment as a mapping, whichever of the two Compose forms it uses."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(k): str(v) for k, v in env.items()}


def is_long_running(service: dict[str, Any]) -> bool:
    return bool(service.get("restart", "no") != "no")


@pytest.mark.parametrize("path", [COMPOSE, WORKER_OVERRIDE], ids=lambda p: p.name)
def test_validates_against_compose_spec(path: Path, schema: dict[str, Any]) -> None:
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(load(path)), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_vendored_schema_is_the_compose_spec(schema: dict[str, Any]) -> None:
    assert schema["title"] == "Compose Specification"
    assert {"service", "healthcheck", "deployment"} <= set(schema["definitions"])


def test_services_exist(services: dict[str, Any]) -> None:
    assert set(APP_SERVICES) | INFRA | ONE_SHOT <= set(services)


def test_every_long_running_service_has_a_healthcheck(services: dict[str, Any]) -> None:
    long_running = {name for name, svc in services.items() if is_long_running(svc)}
    assert set(APP_SERVICES) | INFRA <= long_running
    for name in long_running:
        check = services[name].get("healthcheck") or {}
        assert check.get("test"), f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} disables its healthcheck"


def test_one_shot_jobs_do_not_restart(services: dict[str, Any]) -> None:
    for name in ONE_SHOT:
        assert services[name].get("restart") == "no", name


def test_redis_and_postgres_keep_their_data_in_named_volumes(compose: dict[str, Any]) -> None:
    named = set(compose.get("volumes") or {})
    mounts = {
        "redis": "/data",
        "postgres": "/var/lib/postgresql/data",
        "s3": "/data",
    }
    for name, target in mounts.items():
        volumes = compose["services"][name].get("volumes") or []
        sources = {v.split(":")[0] for v in volumes if isinstance(v, str) and v.split(":")[1] == target}
        assert sources, f"{name} must mount a volume at {target}"
        assert sources <= named, f"{name} must mount a named volume at {target}"


def test_redis_is_configured_from_deploy_with_aof_and_a_password(
    services: dict[str, Any], compose: dict[str, Any]
) -> None:
    redis = services["redis"]
    assert any("deploy/redis/redis.conf" in v for v in redis["volumes"])
    # The password comes from a Compose secret (the .env value), written to a config file the server
    # includes: never an argument of redis-server, which `ps` on the host would show.
    script = " ".join(redis["command"])
    assert "PASSWORD" not in script.replace("redis_password", "")
    assert "requirepass" in script and "--include /tmp/requirepass.conf" in script
    assert redis["secrets"] == ["redis_password"]
    assert compose["secrets"]["redis_password"] == {"environment": "REDIS_PASSWORD"}
    conf = (ROOT / "deploy" / "redis" / "redis.conf").read_text(encoding="utf-8")
    assert re.search(r"^appendonly yes$", conf, re.M)
    assert re.search(r"^maxmemory-policy noeviction$", conf, re.M)


def test_postgres_is_initialised_from_deploy(services: dict[str, Any]) -> None:
    assert "./deploy/postgres:/docker-entrypoint-initdb.d:ro" in services["postgres"]["volumes"]


def test_dependencies_wait_for_health_and_completed_jobs(services: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        assert isinstance(depends, dict), f"{name}: depends_on needs conditions"
        if name in PIPELINE:
            assert depends["redis"]["condition"] == "service_healthy"
    assert services["api"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["ingest"]["depends_on"]["create-bucket"]["condition"] == "service_completed_successfully"
    assert services["parser"]["depends_on"]["create-bucket"]["condition"] == "service_completed_successfully"
    assert services["store"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["store"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["create-bucket"]["depends_on"]["s3"]["condition"] == "service_healthy"
    for name, svc in services.items():
        for dep, spec in (svc.get("depends_on") or {}).items():
            assert dep in services, f"{name} depends on unknown {dep}"
            if spec["condition"] == "service_healthy":
                assert is_long_running(services[dep]), (name, dep)
                assert services[dep].get("healthcheck"), (name, dep)
            if spec["condition"] == "service_completed_successfully":
                assert dep in ONE_SHOT, (name, dep)


def test_each_service_checks_its_own_readiness(services: dict[str, Any]) -> None:
    # A generic check (Redis answers) would call a store healthy whose database is down.
    for name, subcommand in APP_SERVICES.items():
        if name == "api":
            continue  # its own readiness over HTTP: test_api_is_checked_on_readiness_and_published_on_loopback
        test = services[name]["healthcheck"]["test"]
        assert test[1:] == ["python", "-m", "minutes_cli.health_cmd", subcommand], name


def test_published_ports_avoid_the_standard_ones(services: dict[str, Any]) -> None:
    # The host may run its own Redis and PostgreSQL on 6379/5432 (and the CI machines do).
    for name, default in (("redis", "16379"), ("postgres", "15432"), ("s3", "18333")):
        (published,) = services[name]["ports"]
        assert published.startswith("${PUBLISH_ADDRESS:-127.0.0.1}:"), name
        assert f":-{default}}}:" in published, name


def test_parser_runs_at_least_two_replicas(services: dict[str, Any]) -> None:
    assert int(services["parser"]["deploy"]["replicas"]) >= 2


def test_store_exposes_no_ports(services: dict[str, Any]) -> None:
    assert not services["store"].get("ports")
    assert not services["store"].get("expose")


def test_api_is_checked_on_readiness_and_published_on_loopback(services: dict[str, Any]) -> None:
    api = services["api"]
    test = api["healthcheck"]["test"]
    # /readyz over HTTP from inside the container: healthy only when the database is reachable and migrated.
    assert test[:3] == ["CMD", "python", "-c"], test
    assert f"urlopen('http://127.0.0.1:{env_of(api)['MINUTES_API_PORT']}/readyz'" in test[-1], test
    assert api["ports"] == ["${PUBLISH_ADDRESS:-127.0.0.1}:${API_PORT:-8700}:8700"]
    assert env_of(api)["MINUTES_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert env_of(api)["MINUTES_BLOB_STORE"] == "s3"  # downloads of the originals come from the bucket


def test_ingest_gets_the_inbox_and_the_bucket(services: dict[str, Any]) -> None:
    ingest = services["ingest"]
    # A bind mount of a host folder (./inbox unless INBOX_DIR says otherwise) at /inbox.
    assert "${INBOX_DIR:-./inbox}:/inbox" in ingest["volumes"]
    env = env_of(ingest)
    assert env["MINUTES_INBOX"] == "/inbox"
    for key in ("MINUTES_S3_ENDPOINT_URL", "MINUTES_S3_BUCKET", "MINUTES_S3_ACCESS_KEY_ID"):
        assert env.get(key), key


def test_app_services_share_one_image_built_from_the_dockerfile(services: dict[str, Any]) -> None:
    builds = {name: services[name].get("build") for name in [*APP_SERVICES, "migrate"]}
    assert all(b == {"context": ".", "dockerfile": "Dockerfile"} for b in builds.values()), builds
    assert len({services[name]["image"] for name in builds}) == 1


def test_commands_are_real_service_subcommands(services: dict[str, Any]) -> None:
    for name, subcommand in APP_SERVICES.items():
        command = services[name]["command"]
        assert command == ["minutes", "service", subcommand]
        assert subcommand in SERVICE_SUBCOMMANDS


def _typer_service_commands() -> set[str]:
    """Subcommands of `minutes service`, read from the CLI itself. A CLI that fails to import, or has no
    `minutes service`, fails the test that asks (it used to be skipped, which hid a broken CLI)."""
    from typer.main import get_command

    from minutes_cli.main import app

    service = get_command(app).commands.get("service")  # type: ignore[attr-defined]
    assert service is not None, "minutes_cli.main defines no `minutes service` command"
    commands = getattr(service, "commands", None)
    if commands:  # `minutes service` as a group of subcommands
        return set(commands)
    for param in service.params:  # or as one command taking a choice of service names
        choices = _choices(param)
        if choices:
            return choices
    raise AssertionError("`minutes service` takes no choice of service names")


def _choices(param: Any) -> set[str] | None:
    """The allowed values of a CLI parameter: an Enum annotation (Typer) or a click Choice type."""
    descriptor = getattr(param, "type_descriptor", None)
    annotation = getattr(descriptor, "annotation", None)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return {str(member.value) for member in annotation}
    choices = getattr(getattr(param, "type", None), "choices", None)
    return {str(getattr(c, "value", c)) for c in choices} if choices else None


def test_commands_exist_in_the_cli(services: dict[str, Any]) -> None:
    known = _typer_service_commands()
    for name, subcommand in APP_SERVICES.items():
        assert subcommand in known, f"{name}: `minutes service {subcommand}` is not a CLI command"
    from typer.main import get_command

    from minutes_cli.main import app

    assert services["migrate"]["command"] == ["minutes", "migrate"]
    assert "migrate" in get_command(app).commands  # type: ignore[attr-defined]


def test_every_minutes_variable_is_a_setting(services: dict[str, Any]) -> None:
    fields = set(Settings.model_fields)
    override = load(WORKER_OVERRIDE)["services"]
    for source in (services, override):
        for name, svc in source.items():
            for key in env_of(svc):
                if key.startswith("MINUTES_"):
                    field = key.removeprefix("MINUTES_").lower()
                    assert field in fields, f"{name}: {key} is not a Settings field"


def test_env_example_lists_every_variable_the_compose_files_use() -> None:
    example = {
        line.split("=", 1)[0].strip()
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    }
    used = set()
    for path in (COMPOSE, WORKER_OVERRIDE):
        used |= set(VARIABLE.findall(path.read_text(encoding="utf-8")))
    assert used - example == set(), f"missing from .env.example: {sorted(used - example)}"


def test_env_example_has_no_working_secrets() -> None:
    values = dict(
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.lstrip().startswith("#")
    )
    for secret in ("REDIS_PASSWORD", "POSTGRES_PASSWORD", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"):
        assert values[secret].strip() == "", f"{secret} must be empty in .env.example (compose then refuses to start)"
        # And compose must refuse an empty value instead of starting with it.
        assert f"${{{secret}:?" in COMPOSE.read_text(encoding="utf-8"), secret


def test_env_is_ignored_by_git_and_docker() -> None:
    assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "**/.env" in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()


def test_worker_override_starts_workers_only(services: dict[str, Any]) -> None:
    override = load(WORKER_OVERRIDE)["services"]
    assert set(override) <= set(APP_SERVICES) - {"ingest", "api"}
    for name, svc in override.items():
        assert svc["depends_on"] == {}, f"{name} must not start the shared infrastructure"
        env = env_of(svc)
        assert "${SHARED_HOST" in env["MINUTES_REDIS_URL"]
    assert "!reset" in WORKER_OVERRIDE.read_text(encoding="utf-8")


def test_deploy_files_exist() -> None:
    for rel in (
        "deploy/README.md",
        "deploy/redis/redis.conf",
        "deploy/postgres/init.sh",
        "deploy/s3/create-bucket.sh",
        "deploy/s3/seaweedfs.sh",
    ):
        assert (ROOT / rel).is_file(), rel
