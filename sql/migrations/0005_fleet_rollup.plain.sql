-- Fleet usage per hour, so a fleet chart over a month reads some 720 rows
-- instead of one per router and hour. The writer adds to the row of its
-- own shard (instance and worker), as with ingest_stats, so concurrent
-- writers never wait on one hot row; readers sum the shards.
CREATE TABLE fleet_usage_hourly_parts (
    bucket   timestamptz NOT NULL,
    shard    integer NOT NULL,
    tx_bytes bigint NOT NULL DEFAULT 0,
    rx_bytes bigint NOT NULL DEFAULT 0,
    samples  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (bucket, shard)
);

-- Usage stored before this migration, in shard 0.
INSERT INTO fleet_usage_hourly_parts (bucket, shard, tx_bytes, rx_bytes, samples)
SELECT bucket, 0, sum(tx_bytes), sum(rx_bytes), sum(samples)
FROM usage_hourly
GROUP BY bucket;
