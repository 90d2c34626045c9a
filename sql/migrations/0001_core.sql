-- Core telemetry schema: routers, tokens, samples, latest status, rejects
-- and ingest counters. The rollups follow in 0002.

CREATE TABLE routerlogger_settings (
    key   text PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE routers (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    serial       text NOT NULL UNIQUE CHECK (serial <> ''),
    name         text,
    model        text,
    firmware     text,
    imei         text,
    iccid        text,
    lan_mac      text,
    wlan_mac     text,
    counter_bits smallint NOT NULL DEFAULT 64 CHECK (counter_bits IN (32, 64)),
    first_seen   timestamptz,
    last_seen    timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);

COMMENT ON COLUMN routers.serial IS 'the device_id routers send; unique';
COMMENT ON COLUMN routers.counter_bits IS
    '64 unless the router declared 32-bit counters; only 32-bit counters wrap';

CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hash         bytea NOT NULL UNIQUE,
    scope        text NOT NULL CHECK (scope IN ('fleet', 'router')),
    router_id    bigint REFERENCES routers (id),
    note         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz,
    CHECK ((scope = 'router') = (router_id IS NOT NULL))
);

COMMENT ON TABLE api_tokens IS 'bearer tokens, stored as SHA-256 of the token';

-- One row per reading. The primary key makes a repeated delivery a no-op.
-- tx_delta and rx_delta are the usage the reading adds (see ingest/usage);
-- the *_base and *_pending columns are the usage state after the reading,
-- so a late reading can resume the rules from its predecessor.
CREATE TABLE samples (
    router_id     bigint NOT NULL REFERENCES routers (id),
    time          timestamptz NOT NULL,
    tx_counter    bigint CHECK (tx_counter >= 0),
    rx_counter    bigint CHECK (rx_counter >= 0),
    tx_delta      bigint,
    rx_delta      bigint,
    uptime_s      bigint,
    rsrp          real,
    rsrq          real,
    sinr          real,
    rssi          real,
    mcc           text,
    mnc           text,
    lac           bigint,
    tac           bigint,
    cell_id       bigint,
    operator      text,
    network_type  text,
    wan_ip        inet,
    flags         integer NOT NULL DEFAULT 0,
    source        text NOT NULL CHECK (source IN ('http', 'mqtt', 'import')),
    received_at   timestamptz NOT NULL,
    tx_base       bigint,
    tx_pending    bigint,
    tx_pending_at timestamptz,
    rx_base       bigint,
    rx_pending    bigint,
    rx_pending_at timestamptz,
    PRIMARY KEY (router_id, time)
);

COMMENT ON COLUMN samples.flags IS
    'bit set of ingest/usage.Flags; read it through sample_events(flags)';

-- The latest reading per router, and the usage state after it. The writer
-- locks this row for the router it writes, which is what keeps the rules
-- right when several instances write for one router at once.
CREATE TABLE router_status (
    router_id     bigint PRIMARY KEY REFERENCES routers (id),
    time          timestamptz,
    received_at   timestamptz,
    source        text,
    tx_counter    bigint,
    rx_counter    bigint,
    uptime_s      bigint,
    rsrp          real,
    rsrq          real,
    sinr          real,
    rssi          real,
    mcc           text,
    mnc           text,
    lac           bigint,
    tac           bigint,
    cell_id       bigint,
    operator      text,
    network_type  text,
    wan_ip        inet,
    flags         integer NOT NULL DEFAULT 0,
    tx_base       bigint,
    tx_pending    bigint,
    tx_pending_at timestamptz,
    rx_base       bigint,
    rx_pending    bigint,
    rx_pending_at timestamptz
);

CREATE FUNCTION routers_add_status() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO router_status (router_id) VALUES (NEW.id) ON CONFLICT DO NOTHING;
    RETURN NEW;
END
$$;

CREATE TRIGGER routers_add_status AFTER INSERT ON routers
    FOR EACH ROW EXECUTE FUNCTION routers_add_status();

-- Every input that could not be accepted, with its reason. Payloads are
-- capped by the writer.
CREATE TABLE rejects (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at   timestamptz NOT NULL,
    source        text NOT NULL,
    router_serial text,
    item_index    integer,
    field         text,
    reason        text NOT NULL,
    payload       text
);

CREATE INDEX rejects_received_at ON rejects (received_at);

-- Accepted, duplicate and rejected readings per minute and source. shard
-- spreads concurrent writers over rows so they do not queue on one lock.
CREATE TABLE ingest_stats (
    minute     timestamptz NOT NULL,
    source     text NOT NULL,
    shard      integer NOT NULL,
    accepted   bigint NOT NULL DEFAULT 0,
    duplicates bigint NOT NULL DEFAULT 0,
    rejected   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (minute, source, shard)
);

-- sample_events names the bits of samples.flags (see ingest/usage.Flags).
CREATE FUNCTION sample_events(flags integer) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(name ORDER BY bit), '{}')
    FROM (VALUES
        (1, 'reboot'), (2, 'wrap'), (3, 'wrap'), (4, 'glitch'), (5, 'glitch'),
        (6, 'reset'), (7, 'reset'), (8, 'gap'), (9, 'late'), (10, 'no_timestamp')
    ) AS b (bit, name)
    WHERE flags & (1 << bit) <> 0
      AND NOT (bit IN (3, 5, 7) AND flags & (1 << (bit - 1)) <> 0)
$$;
