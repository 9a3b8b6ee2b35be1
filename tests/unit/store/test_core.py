"""Pure pieces of the store: entry decoding, event validation, outage classification."""

from __future__ import annotations

import orjson
import pytest
from faststream.redis.parser import BinaryMessageFormatV1
from sqlalchemy import exc

from services.store.db import is_db_unavailable
from services.store.handlers import parse_event, payload_of
from services.store.repository import decision_made, item_id
from shared.contracts.events import AgendaItemParsed, MeetingParsed, decision_event_id, utcnow
from shared.dead_letter import InvalidMessage
from shared.stream_worker import entry_of
from tests.unit.store.factories import meeting


async def test_payload_of_reads_faststream_envelope_and_plain_json() -> None:
    m, _ = meeting("core", 1)
    body = m.model_dump_json().encode()
    envelope = await BinaryMessageFormatV1.encode(message=body, reply_to=None, headers=None, correlation_id="c")
    assert payload_of({b"__data__": envelope}) == body
    assert payload_of({b"json": body}) == body
    assert orjson.loads(payload_of({b"other": b"x"})) == {"other": "x"}


def test_entry_of_a_reply_row_names_its_id_and_whether_it_is_ours() -> None:
    entry = entry_of(b"1-0", {b"json": b"1"}, deliveries=2)
    assert (entry.message_id, entry.payload, entry.deliveries, entry.known) == ("1-0", b"1", 2, True)
    assert entry_of("1-1", {b"other": b"x"}).known is False


def test_parse_event_accepts_both_kinds_and_rejects_unknown_versions() -> None:
    m, items = meeting("core", 1)
    assert isinstance(parse_event(m.model_dump_json().encode()), MeetingParsed)
    assert isinstance(parse_event(items[0].model_dump_json().encode()), AgendaItemParsed)
    future = orjson.loads(m.model_dump_json()) | {"schema_version": 2}
    with pytest.raises(InvalidMessage):
        parse_event(orjson.dumps(future))
    with pytest.raises(InvalidMessage):
        parse_event(b"\xff not json")


def test_decision_made_event() -> None:
    _m, items = meeting("core", 2)
    now = utcnow()
    ev = decision_made(items[1], now=now, public_base_url="https://x/")
    assert ev.event_id == decision_event_id(items[1].document_id, 1)
    assert ev.item_id == item_id(items[1].document_id, 1)
    assert ev.item_url == "https://x/" + ev.item_id
    assert ev.occurred_at == now


@pytest.mark.parametrize(
    ("error", "unavailable"),
    [
        (exc.OperationalError("SELECT 1", {}, Exception("database is locked")), True),
        (exc.InterfaceError("SELECT 1", {}, Exception("connection closed")), True),
        (ConnectionRefusedError(111, "refused"), True),
        (TimeoutError(), True),
        (exc.IntegrityError("INSERT", {}, Exception("duplicate")), False),
        (exc.DataError("INSERT", {}, Exception("bad value")), False),
        (ValueError("bug"), False),
    ],
)
def test_is_db_unavailable(error: BaseException, unavailable: bool) -> None:
    assert is_db_unavailable(error) is unavailable


def test_transient_postgres_sqlstate_is_unavailable() -> None:
    class Orig(Exception):
        sqlstate = "40P01"  # deadlock detected

    assert is_db_unavailable(exc.DBAPIError("UPDATE", {}, Orig()))
