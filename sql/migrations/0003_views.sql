-- Analyst views and the read-only role. The role can read these views and
-- call sample_events, nothing else; grant it to login roles:
--   CREATE ROLE alice LOGIN; GRANT routerlogger_reader TO alice;

DO $$
BEGIN
    CREATE ROLE routerlogger_reader NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL; -- roles are cluster-wide: another database made it already
END
$$;

CREATE VIEW router_usage_hourly AS
SELECT r.serial, r.name, u.bucket, u.tx_bytes, u.rx_bytes,
       u.tx_bytes + u.rx_bytes AS total_bytes, u.samples
FROM usage_hourly u
JOIN routers r ON r.id = u.router_id;

CREATE VIEW router_usage_daily AS
SELECT r.serial, r.name, u.bucket, u.tx_bytes, u.rx_bytes,
       u.tx_bytes + u.rx_bytes AS total_bytes, u.samples
FROM usage_daily u
JOIN routers r ON r.id = u.router_id;

CREATE VIEW fleet_usage_daily AS
SELECT bucket,
       sum(tx_bytes)::bigint AS tx_bytes,
       sum(rx_bytes)::bigint AS rx_bytes,
       sum(tx_bytes + rx_bytes)::bigint AS total_bytes,
       count(DISTINCT router_id) AS routers
FROM usage_daily
GROUP BY bucket;

CREATE VIEW router_latest AS
SELECT r.serial, r.name, r.model, r.firmware, s.time AS last_seen,
       s.tx_counter, s.rx_counter, s.uptime_s, s.rsrp, s.rsrq, s.sinr, s.rssi,
       s.operator, s.network_type, s.mcc, s.mnc, s.cell_id, s.wan_ip,
       r.imei, r.iccid
FROM routers r
JOIN router_status s ON s.router_id = r.id;

CREATE VIEW router_events AS
SELECT r.serial, r.name, s.time, sample_events(s.flags) AS events,
       s.tx_delta, s.rx_delta, s.source
FROM samples s
JOIN routers r ON r.id = s.router_id
WHERE s.flags & ~1 <> 0;

CREATE VIEW ingest_health AS
SELECT minute, source,
       sum(accepted)::bigint AS accepted,
       sum(duplicates)::bigint AS duplicates,
       sum(rejected)::bigint AS rejected,
       CASE WHEN sum(accepted + duplicates + rejected) = 0 THEN 0
            ELSE sum(rejected)::double precision / sum(accepted + duplicates + rejected)
       END AS reject_rate
FROM ingest_stats
GROUP BY minute, source;

REVOKE ALL ON FUNCTION sample_events(integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION routers_add_status() FROM PUBLIC;

GRANT USAGE ON SCHEMA public TO routerlogger_reader;
GRANT SELECT ON router_usage_hourly, router_usage_daily, fleet_usage_daily,
    router_latest, router_events, ingest_health TO routerlogger_reader;
GRANT EXECUTE ON FUNCTION sample_events(integer) TO routerlogger_reader;
