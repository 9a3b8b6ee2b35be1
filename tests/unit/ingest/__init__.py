"""Unit tests of the ingest service."""
