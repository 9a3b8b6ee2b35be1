"""search: the full-text index item_search (SQLite FTS5 of Danish stems; PostgreSQL tsvector + GIN)

Revision ID: 0004_search
Revises: 0003_provenance
Create Date: 2026-12-02 01:00:00

The index is built here for the items already stored, with the tokenisation and weighting of
services/store/search.py as they are at this revision (copied: a migration must not change later). It is
dialect-specific and not a SQLModel table (SQLite: item_search and its
rowid map item_search_ids); services/store/search.py reads and writes it.
"""

import hashlib
import re
from typing import Any, Sequence, Union

import orjson
import sqlalchemy as sa
from alembic import op

revision: str = "0004_search"
down_revision: Union[str, Sequence[str], None] = "0003_provenance"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_TOKEN = re.compile(r"[^\W_]+")
_BATCH = 1000

_EXISTING = sa.text(
    "SELECT i.id, i.title, i.sections, d.text AS decision FROM agenda_items i "
    "LEFT JOIN decisions d ON d.item_id = i.id ORDER BY i.id"
)


def _sections(raw: Any) -> str:
    sections = orjson.loads(raw) if isinstance(raw, (str, bytes)) else (raw or [])
    return "\n".join(f"{s.get('name', '')}\n{s.get('text', '')}" for s in sections)


def _upgrade_sqlite() -> None:
    import Stemmer

    stemmer = Stemmer.Stemmer("danish")

    def stemmed(value: str | None) -> str:
        return " ".join(stemmer.stemWords([t.lower() for t in _TOKEN.findall(value or "")]))

    op.execute(
        "CREATE VIRTUAL TABLE item_search USING fts5("
        "title, decision, body, tokenize = 'unicode61 remove_diacritics 0')"
    )
    # rowid (a stable hash of the item id) -> item id. A regular table, because reading a column back out of
    # the FTS5 table costs a content lookup per hit (~20 us; a quarter of a second for a common word).
    op.execute("CREATE TABLE item_search_ids (rowid INTEGER PRIMARY KEY, item_id VARCHAR NOT NULL UNIQUE)")
    bind = op.get_bind()
    insert = sa.text("INSERT INTO item_search (rowid, title, decision, body) VALUES (:rowid, :title, :decision, :body)")
    insert_id = sa.text("INSERT INTO item_search_ids (rowid, item_id) VALUES (:rowid, :item_id)")
    batch: list[dict[str, Any]] = []
    for row in bind.execute(_EXISTING):
        rowid = int.from_bytes(hashlib.blake2b(row.id.encode(), digest_size=8).digest(), "big", signed=True)
        batch.append(
            {
                "rowid": rowid,
                "item_id": row.id,
                "title": stemmed(row.title),
                "decision": stemmed(row.decision),
                "body": stemmed(_sections(row.sections)),
            }
        )
        if len(batch) >= _BATCH:
            bind.execute(insert, batch)
            bind.execute(insert_id, batch)
            batch = []
    if batch:
        bind.execute(insert, batch)
        bind.execute(insert_id, batch)


def _upgrade_postgresql() -> None:
    op.execute(
        "CREATE TABLE item_search (item_id VARCHAR PRIMARY KEY REFERENCES agenda_items (id), tsv TSVECTOR NOT NULL)"
    )
    op.execute("CREATE INDEX ix_item_search_tsv ON item_search USING GIN (tsv)")
    # Built in the database: the sections are a JSON array of {name, text}.
    op.execute(
        "INSERT INTO item_search (item_id, tsv) SELECT i.id, "
        "setweight(to_tsvector('danish', i.title), 'A') || "
        "setweight(to_tsvector('danish', coalesce(d.text, '')), 'B') || "
        "setweight(to_tsvector('danish', coalesce((SELECT string_agg((s ->> 'name') || E'\\n' || (s ->> 'text'), "
        "E'\\n' ORDER BY n) FROM json_array_elements(i.sections) WITH ORDINALITY AS t(s, n)), '')), 'C') "
        "FROM agenda_items i LEFT JOIN decisions d ON d.item_id = i.id"
    )


def upgrade() -> None:
    """Create the index for this dialect and fill it with the items already stored."""
    dialect = op.get_bind().dialect.name
    # (id, position): the sort key of a page without reading the (large) item rows, on both databases.
    op.create_index("ix_agenda_items_id_position", "agenda_items", ["id", "position"], unique=False)
    if dialect == "sqlite":
        _upgrade_sqlite()
    elif dialect == "postgresql":
        _upgrade_postgresql()
    else:
        raise NotImplementedError(f"no search index for {dialect!r}")


def downgrade() -> None:
    """Drop the index."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE item_search_ids")
    op.execute("DROP TABLE item_search")
    op.drop_index("ix_agenda_items_id_position", table_name="agenda_items")
