-- On plain PostgreSQL the rollups are tables that the writer keeps exact
-- in the same transaction as the samples (see ingest/writer). A bucket
-- holds the deltas of the readings that end an interval inside it.
CREATE TABLE usage_hourly (
    router_id bigint NOT NULL REFERENCES routers (id),
    bucket    timestamptz NOT NULL,
    tx_bytes  bigint NOT NULL DEFAULT 0,
    rx_bytes  bigint NOT NULL DEFAULT 0,
    samples   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (router_id, bucket)
);

CREATE TABLE usage_daily (
    router_id bigint NOT NULL REFERENCES routers (id),
    bucket    timestamptz NOT NULL,
    tx_bytes  bigint NOT NULL DEFAULT 0,
    rx_bytes  bigint NOT NULL DEFAULT 0,
    samples   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (router_id, bucket)
);

CREATE INDEX usage_hourly_bucket ON usage_hourly (bucket);
CREATE INDEX usage_daily_bucket ON usage_daily (bucket);
