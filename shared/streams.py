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

# The one field of a public-stream entry; its value is the event as JSON text.
PUBLIC_FIELD: Final = "json"

# Every internal stream and the groups that read it: used for trimming only what all groups acknowledged.
GROUPS_BY_STREAM: Final[dict[str, tuple[str, ...]]] = {
    DOCUMENTS: (PARSER_GROUP,),
    ITEMS: (STORE_GROUP,),
}
