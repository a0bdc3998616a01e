#!/bin/sh
# Restore a dump made by backup.sh into a NEW database, TimescaleDB's way: docs/backup.md.
# Usage: restore.sh FILE DATABASE   (libpq's PGHOST, PGPORT, PGUSER: a superuser)
# The TimescaleDB extension of the target must be the version the dump was made with.
set -eu
if [ $# -ne 2 ]; then
    echo "usage: restore.sh FILE DATABASE" >&2
    exit 2
fi
file=$1
database=$2
owner=${BAUHOF_DB_OWNER:-bauhof}
run_sql() {
    psql --no-psqlrc -v ON_ERROR_STOP=1 --quiet --dbname="$database" --command="$1"
}
createdb --owner="$owner" "$database"
run_sql "CREATE EXTENSION IF NOT EXISTS timescaledb"
# Stops TimescaleDB's background jobs and lets pg_restore write its catalog tables as they were.
run_sql "SELECT timescaledb_pre_restore()"
pg_restore --exit-on-error --no-password --dbname="$database" "$file"
run_sql "SELECT timescaledb_post_restore()"
run_sql "ANALYZE"
echo "restore.sh: $file restored into $database"
