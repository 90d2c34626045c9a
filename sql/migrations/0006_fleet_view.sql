-- fleet_usage_hourly reads the fleet rollup of 0005 instead of summing
-- every router's hourly row. It no longer counts routers (that needs the
-- per-router rows); fleet_usage_daily still does.
DROP VIEW fleet_usage_hourly;

CREATE VIEW fleet_usage_hourly AS
SELECT bucket,
       sum(tx_bytes)::bigint AS tx_bytes,
       sum(rx_bytes)::bigint AS rx_bytes,
       sum(tx_bytes + rx_bytes)::bigint AS total_bytes,
       sum(samples)::bigint AS samples
FROM fleet_usage_hourly_parts
GROUP BY bucket;

GRANT SELECT ON fleet_usage_hourly TO routerlogger_reader;
