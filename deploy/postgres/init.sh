#!/bin/sh
# Runs once, on an empty data volume (docker-entrypoint-initdb.d). Tables come from `minutes migrate`
# (Alembic), not from here: this only sets database-wide defaults the application relies on.
set -eu

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<EOSQL
-- Timestamps are stored timezone-aware; UTC keeps psql output and the application's view identical.
ALTER DATABASE "$POSTGRES_DB" SET timezone TO 'UTC';
-- A forgotten transaction must not hold locks (and block migrations) forever.
ALTER DATABASE "$POSTGRES_DB" SET idle_in_transaction_session_timeout TO '5min';
-- Only the owner may create objects in public (the PostgreSQL 15+ default, made explicit for older servers).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
EOSQL
