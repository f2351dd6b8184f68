#!/bin/sh
# Sets up the Temporal server's persistence and visibility databases on PostgreSQL, or brings
# set-up ones up to date: `npm run start:cluster` (with the provisioned temporal-sql-tool) and
# docker-compose.yml's temporal-schema service (in the admin-tools image) run this one script.
# Idempotent: an existing database or schema is left alone, only newer versions are applied.
set -eu
tool="${TEMPORAL_SQL_TOOL:-temporal-sql-tool}"
schema="${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema}"
for pair in temporal:temporal temporal_visibility:visibility; do
  db="${pair%%:*}"
  versions="$schema/postgresql/v12/${pair#*:}/versioned"
  sqltool() { "$tool" --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "${DB_PORT:-5432}" -u "$POSTGRES_USER" --pw "$POSTGRES_PWD" --db "$db" "$@"; }
  out=$(sqltool create-database 2>&1) || echo "$out" | grep -q 'already exists' || { echo "$out" >&2; exit 1; }
  # Version 0.0 first (refused once any version is there), then every versioned step after it.
  out=$(sqltool setup-schema -v 0.0 2>&1) || echo "$out" | grep -Eq 'already exists|schema_version' || { echo "$out" >&2; exit 1; }
  sqltool update-schema -d "$versions"
done
