"""Integration tests of the ingest service (real Redis, real inbox folder)."""
