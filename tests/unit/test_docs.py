"""The front door stays true: README commands, the configuration table (docs/), CI script and AsyncAPI documents."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from minutes_cli.asyncapi_cmd import SERVICES, spec_json
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.strip().splitlines()]


def test_the_quick_start_begins_with_run_then_test() -> None:
    assert _quick_start_commands()[:2] == ["./dev up", "./dev test"]


def test_ci_runs_exactly_the_readme_test_command_then_the_compose_test() -> None:
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line.strip().removeprefix("exec ") for line in script.splitlines()
                if line.strip().removeprefix("exec ").startswith("./dev ")]
    assert commands == [_quick_start_commands()[1], "./dev compose-test"]
    assert "`./dev compose-test`" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented_in_the_configuration_table() -> None:
    configuration = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    table = configuration.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"MINUTES_[A-Z0-9_]+", table))
    expected = {f"MINUTES_{name.upper()}" for name in Settings.model_fields}
    assert expected - documented == set()
    assert documented - expected == set()


@pytest.mark.parametrize("service", SERVICES)
def test_committed_asyncapi_documents_match_the_apps_byte_for_byte(service: str) -> None:
    # Bytes, not parsed JSON: `minutes asyncapi` on unchanged code must leave the committed files unchanged.
    committed = (ROOT / "docs" / "asyncapi" / f"{service}.json").read_text(encoding="utf-8")
    assert spec_json(service) + "\n" == committed, "run `minutes asyncapi` and commit docs/asyncapi"


@pytest.mark.parametrize("service", SERVICES)
def test_asyncapi_documents_every_payload_and_the_dead_letter_stream(service: str) -> None:
    spec = json.loads(spec_json(service))
    schemas = spec["components"]["schemas"]
    assert [name for name, schema in schemas.items() if set(schema) <= {"title"}] == []
    addresses = {channel["address"] for channel in spec["channels"].values()}
    assert "minutes:dead-letter" in addresses
    assert "DeadLettered" in schemas


def test_the_parser_documents_the_document_received_it_reads() -> None:
    schemas = json.loads(spec_json("parser"))["components"]["schemas"]
    assert schemas["minutes:documents:Message:Payload"]["$ref"] == "#/components/schemas/DocumentReceived"
    assert "blob_ref" in schemas["DocumentReceived"]["properties"]


def test_the_alerts_worker_documents_the_public_stream_it_reads_without_a_group() -> None:
    spec = json.loads(spec_json("alerts"))
    read = [c for c in spec["channels"].values() if c["bindings"]["redis"].get("method") in ("xread", "xreadgroup")]
    assert {c["address"] for c in read} == {"minutes:decisions"}
    # Each subscription keeps its own cursor: no consumer group.
    assert [c["bindings"]["redis"].get("method") for c in read] == ["xread"]
    assert all("groupName" not in c["bindings"]["redis"] for c in read)
    schemas = spec["components"]["schemas"]
    payloads = [s for k, s in schemas.items() if k.endswith(":Message:Payload") and k.startswith("alerts.")]
    assert payloads and all(p["discriminator"]["propertyName"] == "event" for p in payloads)
    assert {"DecisionMade", "DecisionRevised"} <= set(schemas)
    assert "decision_text" in schemas["DecisionMade"]["properties"]
