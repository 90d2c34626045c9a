-- On TimescaleDB the rollups are continuous aggregates over the stored
-- deltas: hourly on samples, daily on hourly (hierarchical), with
-- real-time aggregation on so the newest data is always included. Buckets
-- are UTC. A revised delta invalidates its bucket, which the refresh
-- policy recomputes.
CREATE MATERIALIZED VIEW usage_hourly
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT router_id,
       time_bucket(INTERVAL '1 hour', time) AS bucket,
       coalesce(sum(tx_delta), 0)::bigint AS tx_bytes,
       coalesce(sum(rx_delta), 0)::bigint AS rx_bytes,
       count(*) FILTER (WHERE flags & 1 = 0) AS samples
FROM samples
GROUP BY router_id, time_bucket(INTERVAL '1 hour', time)
WITH NO DATA;

CREATE MATERIALIZED VIEW usage_daily
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT router_id,
       time_bucket(INTERVAL '1 day', bucket) AS bucket,
       sum(tx_bytes)::bigint AS tx_bytes,
       sum(rx_bytes)::bigint AS rx_bytes,
       sum(samples)::bigint AS samples
FROM usage_hourly
GROUP BY router_id, time_bucket(INTERVAL '1 day', bucket)
WITH NO DATA;

SELECT add_continuous_aggregate_policy('usage_hourly',
    start_offset => INTERVAL '30 days', end_offset => INTERVAL '1 hour',
    schedule_interval => INTERVAL '5 minutes');

SELECT add_continuous_aggregate_policy('usage_daily',
    start_offset => INTERVAL '60 days', end_offset => INTERVAL '1 day',
    schedule_interval => INTERVAL '30 minutes');
