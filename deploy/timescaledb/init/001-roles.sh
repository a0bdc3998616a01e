#!/bin/bash
# Bauhof's database roles, created once when the timescaledb container initialises an empty
# data volume (mounted into /docker-entrypoint-initdb.d/, after the image's own scripts).
#   bauhof   writes: owns the database (and so, from PostgreSQL 15 on, its public schema);
#            `bauhof db migrate` creates the tables as this role.
#   grafana  reads: SELECT on every table and view in public, now and created later by bauhof,
#            and every transaction read-only.
# The image may source this file rather than run it, so it sets no shell options and never
# exits; psql stops at the first error and the entrypoint fails the initialisation.
# libpq's PGHOST/PGPORT are honoured, which is how tests/deploy runs it against a test cluster.

: "${BAUHOF_DB_PASSWORD:?set BAUHOF_DB_PASSWORD in .env}"
: "${GRAFANA_DB_PASSWORD:?set GRAFANA_DB_PASSWORD in .env}"

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" \
    --dbname "${POSTGRES_DB:-bauhof}" \
    -v bauhof_password="$BAUHOF_DB_PASSWORD" -v grafana_password="$GRAFANA_DB_PASSWORD" <<'SQL'
SELECT format('CREATE ROLE bauhof LOGIN PASSWORD %L', :'bauhof_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bauhof') \gexec
SELECT format('CREATE ROLE grafana LOGIN PASSWORD %L', :'grafana_password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'grafana') \gexec
SELECT format('ALTER ROLE bauhof LOGIN PASSWORD %L', :'bauhof_password') \gexec
SELECT format('ALTER ROLE grafana LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L',
              :'grafana_password') \gexec

SELECT format('ALTER DATABASE %I OWNER TO bauhof', current_database()) \gexec
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database()) \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO grafana', current_database()) \gexec

-- Dashboards never write, and a runaway panel query does not hold the database.
ALTER ROLE grafana SET default_transaction_read_only = on;
ALTER ROLE grafana SET statement_timeout = '60s';

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO grafana;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO grafana;
ALTER DEFAULT PRIVILEGES FOR ROLE bauhof IN SCHEMA public GRANT SELECT ON TABLES TO grafana;
SQL
