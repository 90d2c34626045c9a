#!/bin/sh
# Runs once, when the TimescaleDB container initialises an empty data
# folder: creates the read-only role of the schema (the migrations grant it
# the views) and Grafana's login role in it, so the provisioned datasource
# can connect. The password comes from ROUTERLOGGER_GRAFANA_DB_PASSWORD.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
	-v pw="$ROUTERLOGGER_GRAFANA_DB_PASSWORD" <<'SQL'
SELECT 'CREATE ROLE routerlogger_reader NOLOGIN'
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'routerlogger_reader') \gexec
CREATE ROLE routerlogger_grafana LOGIN PASSWORD :'pw' IN ROLE routerlogger_reader;
SQL
