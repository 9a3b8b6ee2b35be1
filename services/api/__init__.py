"""The read API and web page: decisions, meetings, cases and their source files over HTTP (read-only)."""
