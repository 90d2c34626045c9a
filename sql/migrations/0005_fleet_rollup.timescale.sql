-- Fleet usage per hour as a continuous aggregate over the stored deltas,
-- with the same name and columns as the plain table (one shard).
CREATE MATERIALIZED VIEW fleet_usage_hourly_parts
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 hour', time) AS bucket,
       0 AS shard,
       coalesce(sum(tx_delta), 0)::bigint AS tx_bytes,
       coalesce(sum(rx_delta), 0)::bigint AS rx_bytes,
       count(*) FILTER (WHERE flags & 1 = 0) AS samples
FROM samples
GROUP BY time_bucket(INTERVAL '1 hour', time)
WITH NO DATA;

SELECT add_continuous_aggregate_policy('fleet_usage_hourly_parts',
    start_offset => INTERVAL '30 days', end_offset => INTERVAL '1 hour',
    schedule_interval => INTERVAL '5 minutes');
