-- samples becomes a hypertable (one-day chunks), compressed after 7 days.
SELECT create_hypertable('samples', by_range('time', INTERVAL '1 day'));

ALTER TABLE samples SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'router_id',
    timescaledb.compress_orderby = 'time'
);

SELECT add_compression_policy('samples', INTERVAL '7 days');
