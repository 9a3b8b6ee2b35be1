"""meeting versions: meetings.meeting_key and meetings.superseded_by

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 19:40:00

Existing meetings get their key and their versions resolved here, with the rules of
services/store/versions.py as they were at this revision (copied: a migration must not change later).
"""

import re
from collections import defaultdict
from typing import Any, Sequence, Union

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0002"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_SPACES = re.compile(r"\s+")


def _key(municipality: str | None, committee: str | None, meeting_date: object) -> str | None:
    if not (municipality and committee and meeting_date):
        return None
    folded = [_SPACES.sub(" ", part).strip().casefold() for part in (municipality, committee)]
    iso = meeting_date.isoformat() if hasattr(meeting_date, "isoformat") else str(meeting_date)
    return "|".join([*folded, iso])


def upgrade() -> None:
    """Add the columns, then key and resolve the meetings already stored."""
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("meeting_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.add_column(
            sa.Column("superseded_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_meetings_meeting_key"), ["meeting_key"], unique=False)

    meetings = sa.table(
        "meetings",
        sa.column("document_id", sa.String),
        sa.column("kind", sa.String),
        sa.column("municipality", sa.String),
        sa.column("committee", sa.String),
        sa.column("meeting_date", sa.Date),
        sa.column("complete", sa.Boolean),
        sa.column("completed_at", sa.DateTime),
        sa.column("meeting_key", sa.String),
        sa.column("superseded_by", sa.String),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(
            meetings.c.document_id,
            meetings.c.kind,
            meetings.c.municipality,
            meetings.c.committee,
            meetings.c.meeting_date,
            meetings.c.complete,
            meetings.c.completed_at,
        )
    ).all()
    groups: dict[str, list[Any]] = defaultdict(list)
    keys: list[dict[str, Any]] = []
    for row in rows:
        key = _key(row.municipality, row.committee, row.meeting_date)
        if key is None:
            continue
        keys.append({"doc": row.document_id, "value": key})
        if row.complete:
            groups[key].append(row)
    superseded: list[dict[str, Any]] = []
    for versions in groups.values():
        best = max(versions, key=lambda r: (r.kind == "minutes", str(r.completed_at or ""), r.document_id))
        superseded += [{"doc": r.document_id, "value": best.document_id} for r in versions if r is not best]
    # One executemany per column, not a round trip per meeting: a store may hold years of meetings.
    for column, params in (("meeting_key", keys), ("superseded_by", superseded)):
        if params:
            stmt = sa.update(meetings).where(meetings.c.document_id == sa.bindparam("doc"))
            bind.execute(stmt.values({column: sa.bindparam("value")}), params)


def downgrade() -> None:
    """Drop the version columns."""
    with op.batch_alter_table("meetings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meetings_meeting_key"))
        batch_op.drop_column("superseded_by")
        batch_op.drop_column("meeting_key")
