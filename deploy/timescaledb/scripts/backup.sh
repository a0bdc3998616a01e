#!/bin/sh
# Dump one Bauhof database in PostgreSQL's custom format: docs/backup.md.
# Usage: backup.sh FILE [DATABASE]   (libpq's PGHOST, PGPORT, PGUSER say where and as whom)
set -eu
if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: backup.sh FILE [DATABASE]" >&2
    exit 2
fi
file=$1
database=${2:-bauhof}
pg_dump --format=custom --file="$file.partial" --dbname="$database"
# A dump that pg_restore cannot list is no backup: check before it replaces the last one.
pg_restore --list "$file.partial" >/dev/null
mv -f "$file.partial" "$file"
echo "backup.sh: $database dumped to $file"
