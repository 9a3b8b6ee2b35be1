"""search queue: search indexing leaves the store's transaction; two redundant indexes dropped

Revision ID: 0010_search_queue
Revises: 0009_meeting_warnings
Create Date: 2026-12-07 06:00:00

The store used to stem and write the full-text index (SQLite FTS5 / PostgreSQL tsvector) inside its
transaction: half of its CPU. It now writes one `search_queue` row per stored item, and the search indexer
(services/store/indexer.py) indexes the queued items in large batches after the commit. At this revision the
index is complete (every store before it indexed in its transaction), so the queue starts empty.

Two indexes repeated others on every write and served no read: `ix_decisions_outcome` (every read by outcome
pages listed decisions through `ix_decisions_outcome_page`, which leads with `listed` and then `outcome`) and
`ix_agenda_items_id_position` (the item's primary key already finds the row, and the page order reads
`position` from the decision row since revision 0008). The downgrade recreates them and drops the queue —
after indexing what is still queued, since the store of the earlier revision expects a complete index.
"""

import hashlib
import re
from typing import Any, Sequence, Union

import orjson

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0010_search_queue"
down_revision: Union[str, Sequence[str], None] = "0009_meeting_warnings"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Create the queue; drop the two redundant indexes."""
    op.create_table(
        "search_queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_decisions_outcome")
    op.drop_index("ix_agenda_items_id_position", table_name="agenda_items")


def downgrade() -> None:
    """Recreate the indexes; index what is still queued (the earlier store expects a complete index); drop
    the queue."""
    op.create_index("ix_agenda_items_id_position", "agenda_items", ["id", "position"], unique=False)
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index("ix_decisions_outcome", ["outcome"], unique=False)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # The tsvector of 0004, built in the database from the queued items' current rows.
        op.execute(
            "INSERT INTO item_search (item_id, tsv) SELECT i.id, "
            "setweight(to_tsvector('danish', i.title), 'A') || "
            "setweight(to_tsvector('danish', coalesce(d.text, '')), 'B') || "
            "setweight(to_tsvector('danish', coalesce((SELECT string_agg((s ->> 'name') || E'\\n' || (s ->> 'text'), "
            "E'\\n' ORDER BY n) FROM json_array_elements(i.sections) WITH ORDINALITY AS t(s, n)), '')), 'C') "
            "FROM agenda_items i LEFT JOIN decisions d ON d.item_id = i.id "
            "WHERE i.id IN (SELECT item_id FROM search_queue) "
            "ON CONFLICT (item_id) DO UPDATE SET tsv = EXCLUDED.tsv"
        )
    else:
        _index_queued_sqlite(bind)
    op.drop_table("search_queue")


_TOKEN = re.compile(r"[^\W_]+")
_QUEUED = sa.text(
    "SELECT i.id, i.title, i.sections, d.text AS decision FROM agenda_items i "
    "LEFT JOIN decisions d ON d.item_id = i.id WHERE i.id IN (SELECT item_id FROM search_queue) ORDER BY i.id"
)


def _index_queued_sqlite(bind: sa.Connection) -> None:
    """The FTS5 rows of the queued items, with the tokenisation and rowids of 0004 (copied: a migration must
    not change later)."""
    import Stemmer

    stemmer = Stemmer.Stemmer("danish")

    def stemmed(value: str | None) -> str:
        return " ".join(stemmer.stemWords([t.lower() for t in _TOKEN.findall(value or "")]))

    def sections(raw: Any) -> str:
        rows = orjson.loads(raw) if isinstance(raw, (str, bytes)) else (raw or [])
        return "\n".join(f"{s.get('name', '')}\n{s.get('text', '')}" for s in rows)

    params = [
        {
            "rowid": int.from_bytes(hashlib.blake2b(row.id.encode(), digest_size=8).digest(), "big", signed=True),
            "item_id": row.id,
            "title": stemmed(row.title),
            "decision": stemmed(row.decision),
            "body": stemmed(sections(row.sections)),
        }
        for row in bind.execute(_QUEUED)
    ]
    if params:
        bind.execute(sa.text("DELETE FROM item_search WHERE rowid = :rowid"), params)
        bind.execute(
            sa.text("INSERT INTO item_search (rowid, title, decision, body) VALUES (:rowid, :title, :decision, :body)"),
            params,
        )
        bind.execute(sa.text("INSERT OR REPLACE INTO item_search_ids (rowid, item_id) VALUES (:rowid, :item_id)"), params)
