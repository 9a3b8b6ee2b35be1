"""Stream, consumer-group and key names: the one place they are spelled."""

from typing import Final

PREFIX: Final = "minutes"

# DocumentReceived events (ingest -> parser).
DOCUMENTS: Final = f"{PREFIX}:documents"
# MeetingParsed and AgendaItemParsed events (parser -> store).
ITEMS: Final = f"{PREFIX}:items"
# Public DecisionMade events as plain JSON (store relay -> anyone).
DECISIONS: Final = f"{PREFIX}:decisions"
# DeadLettered events from every service.
DEAD_LETTER: Final = f"{PREFIX}:dead-letter"

PARSER_GROUP: Final = "parser"
STORE_GROUP: Final = "store"
# The group the alerts worker read the public stream in before each subscription kept its own cursor
# (revision 0013_alerts_cursors): read once at the first start after the upgrade, then removed.
ALERTS_GROUP: Final = "alerts"

# The one field of a public-stream entry; its value is the event as JSON text.
PUBLIC_FIELD: Final = "json"

# Every internal stream and the groups that read it: used for trimming only what all groups acknowledged.
GROUPS_BY_STREAM: Final[dict[str, tuple[str, ...]]] = {
    DOCUMENTS: (PARSER_GROUP,),
    ITEMS: (STORE_GROUP,),
}

# Keys (not streams), also spelled only here.
# ingest: document ids already published -> the first name they came under.
SEEN_KEY: Final = f"{PREFIX}:ingest:seen"
# ingest: rejected paths -> marker (size, mtime, inode, reason) of the version already dead-lettered.
REJECTED_KEY: Final = f"{PREFIX}:ingest:rejected"
# ingest: per-bucket listing cursor of the S3 source (+ bucket/prefix).
S3_CURSOR_KEY_PREFIX: Final = f"{PREFIX}:ingest:s3:cursor:"
# store relay: one key per published event id (SET NX), so no event is published twice.
DEDUPE_PREFIX: Final = f"{DECISIONS}:published:"
# alerts: public-stream entries that were not valid events, dead-lettered once (whichever worker met them first).
INVALID_PUBLIC_PREFIX: Final = f"{DECISIONS}:invalid:"
# `minutes check` / store start: one re-announcing pass at a time.
RECONCILE_LOCK: Final = f"{PREFIX}:check:reconcile-lock"
# `minutes check` / store start: one pass re-publishing accepted documents that were never parsed.
RECOVER_LOCK: Final = f"{PREFIX}:check:recover-lock"
