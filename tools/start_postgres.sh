#!/usr/bin/env bash
# Start a local PostgreSQL (Debian's) with an empty test database and print its SQLAlchemy URL.
# Used by .ci/run so the integration tests also run on PostgreSQL; needs root. Safe to run again.
set -euo pipefail
DB=retrofit_test
if ! dpkg -s postgresql >/dev/null 2>&1; then
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi
service postgresql start >&2
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 && break; sleep 0.5; done
as_postgres() { su postgres -c "$1"; }
as_postgres "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname = 'retrofit'\"" | grep -q 1 \
  || as_postgres "psql -qc \"CREATE USER retrofit PASSWORD 'retrofit'\"" >&2
as_postgres "dropdb --if-exists $DB" >&2
as_postgres "createdb -O retrofit $DB" >&2
echo "postgresql+psycopg://retrofit:retrofit@127.0.0.1/$DB"
