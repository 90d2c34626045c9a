-- Views and functions for the Grafana datasource plugin (grafana-plugin/).
-- Like the analyst views of 0003 they are granted to routerlogger_reader.
-- Grafana connects with a login role of its own that is a member of that
-- role and of nothing else. Roles are cluster-wide, so the operator
-- creates it once per server:
--   CREATE ROLE routerlogger_grafana LOGIN PASSWORD '...' IN ROLE routerlogger_reader;
--
-- The two functions are SECURITY DEFINER: they run as the migrating user
-- that owns them, with a fixed search_path, and return only the columns
-- named here. Their bodies are SQL-standard (BEGIN ATOMIC), so every table
-- they read is bound when they are created, not looked up when called.

-- Radio readings per sample, for signal charts.
CREATE VIEW router_signal AS
SELECT r.serial, r.name, s.time, s.rsrp, s.rsrq, s.sinr, s.rssi
FROM samples s
JOIN routers r ON r.id = s.router_id;

-- Fleet usage per hour, the hourly sibling of fleet_usage_daily.
CREATE VIEW fleet_usage_hourly AS
SELECT bucket,
       sum(tx_bytes)::bigint AS tx_bytes,
       sum(rx_bytes)::bigint AS rx_bytes,
       sum(tx_bytes + rx_bytes)::bigint AS total_bytes,
       count(DISTINCT router_id) AS routers
FROM usage_hourly
GROUP BY bucket;

-- db_activity lists the client sessions of this database with their state
-- and how long their current query has run (NULL when idle), for the
-- slow-query alert. It never returns the query text. The owner sees the
-- state of other users' sessions only when it is a superuser or a member
-- of pg_read_all_stats.
CREATE FUNCTION db_activity()
RETURNS TABLE (pid integer, application_name text, state text, duration_seconds double precision)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT a.pid, a.application_name, a.state,
           CASE WHEN a.state IS NULL OR a.state = 'idle' THEN NULL
                ELSE extract(epoch FROM clock_timestamp() - a.query_start)::double precision
           END
    FROM pg_stat_activity a
    WHERE a.datname = current_database()
      AND a.backend_type = 'client backend';
END;

-- routerlogger_schema_info says which schema version is applied, in which
-- storage mode, and whether the TimescaleDB extension is installed.
CREATE FUNCTION routerlogger_schema_info()
RETURNS TABLE (version integer, mode text, timescaledb boolean, timescaledb_version text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT (SELECT max(m.version) FROM schema_migrations m),
           (SELECT m.mode FROM schema_migrations m ORDER BY m.version LIMIT 1),
           EXISTS (SELECT 1 FROM pg_extension e WHERE e.extname = 'timescaledb'),
           (SELECT e.extversion FROM pg_extension e WHERE e.extname = 'timescaledb');
END;

REVOKE ALL ON FUNCTION db_activity() FROM PUBLIC;
REVOKE ALL ON FUNCTION routerlogger_schema_info() FROM PUBLIC;

GRANT SELECT ON router_signal, fleet_usage_hourly TO routerlogger_reader;
GRANT EXECUTE ON FUNCTION db_activity(), routerlogger_schema_info() TO routerlogger_reader;
