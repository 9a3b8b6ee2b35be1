"""The read model: every read of stored decisions, items and meetings, and the one decision filter.

- `filter`: `ReadFilter`, its fields and what each means, evaluated as SQL (the reads below) and on one
  live event (the SSE endpoint, the feeds, `minutes decisions --follow`, alert matching), side by side;
- `decisions`, `items`, `meetings`: the reads of the API, the web page, the CLI and the exports
  (`search_decisions`, `iter_items`, `list_meetings`, `get_meeting`, `get_case`, ...);
- `results`: what they return (frozen pydantic models); `cursor`: the opaque keyset cursor;
- `oparl`: the reads behind the OParl routes (bodies, committees, a body's meetings).

It only reads the tables the writer (`services/store`) keeps; the storage (engine, tables, migrations) is
`services/store/db.py` and `services/store/schema.py`.
"""
