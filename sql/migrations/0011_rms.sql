-- Teltonika RMS sync (package sync/rms). RMS owns a router's inventory
-- (RMS id, model, IMEI, MACs) and the sync fills it into routers; the
-- router's own telemetry owns its live state (router_status, samples), so
-- RMS's view of status, cell and last connection is kept beside it in
-- rms_devices, for display only. Firmware goes to whichever observation is
-- newer: firmware_seen_at is when the stored firmware was last observed
-- (a reading's time, or RMS's last_connection_at).

-- Shared with the ClickUp sync: both migrations use these exact lines.
ALTER TABLE routers ADD COLUMN IF NOT EXISTS rms_id bigint;
CREATE UNIQUE INDEX IF NOT EXISTS routers_rms_id ON routers (rms_id);

ALTER TABLE routers ADD COLUMN firmware_seen_at timestamptz;

COMMENT ON COLUMN routers.firmware_seen_at IS
    'when routers.firmware was observed: the newer of telemetry and RMS wins';

-- rms_devices is RMS's last answer for each router it knows, as RMS saw
-- it: it may be stale (RMS polls less often than routers report).
CREATE TABLE rms_devices (
    router_id          bigint PRIMARY KEY REFERENCES routers (id),
    rms_id             bigint NOT NULL UNIQUE,
    serial             text,
    name               text,
    status             text CHECK (status IN ('online', 'offline', 'pending')),
    firmware           text,
    mcc                text,
    mnc                text,
    -- NULL when RMS sent a placeholder cell (lac 65535, cell id 0).
    lac                bigint,
    cell_id            bigint,
    operator           text,
    connection_type    text,
    last_connection_at timestamptz,
    changed_at         timestamptz NOT NULL DEFAULT now()
);

-- rms_usage_daily is RMS's data usage per router and UTC day, summed over
-- modems and SIMs. RMS counters never touch the telemetry tables.
CREATE TABLE rms_usage_daily (
    router_id  bigint NOT NULL REFERENCES routers (id),
    day        date NOT NULL,
    tx_bytes   bigint NOT NULL CHECK (tx_bytes >= 0),
    rx_bytes   bigint NOT NULL CHECK (rx_bytes >= 0),
    fetched_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (router_id, day)
);

-- rms_quota_requests counts every request made to RMS per calendar month
-- (UTC), across instances; quota is the limit in force at the last request
-- (0: unlimited).
CREATE TABLE rms_quota_requests (
    month      date PRIMARY KEY CHECK (month = date_trunc('month', month)),
    requests   bigint NOT NULL DEFAULT 0,
    quota      bigint NOT NULL DEFAULT 0 CHECK (quota >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- rms_quota is the monthly request count against the quota, for the
-- Grafana alert "RMS quota above 80%" (used_ratio > 0.8 this month).
-- quota and used_ratio are NULL when no quota is set.
CREATE VIEW rms_quota AS
SELECT month,
       requests,
       nullif(quota, 0) AS quota,
       requests::double precision / nullif(quota, 0) AS used_ratio
FROM rms_quota_requests;

-- rms_device_status is RMS's stale view of each router beside our own
-- latest reading, for display.
CREATE VIEW rms_device_status AS
SELECT r.serial, r.name, d.rms_id, d.status AS rms_status,
       d.last_connection_at AS rms_last_connection_at, d.firmware AS rms_firmware,
       d.mcc AS rms_mcc, d.mnc AS rms_mnc, d.lac AS rms_lac, d.cell_id AS rms_cell_id,
       d.operator AS rms_operator, s.time AS our_last_seen
FROM rms_devices d
JOIN routers r ON r.id = d.router_id
LEFT JOIN router_status s ON s.router_id = d.router_id;

-- usage_reconciliation sets RMS's daily data usage beside ours (the
-- telemetry rollup usage_daily, days in UTC); diff_bytes is RMS's total
-- minus ours (ours counts 0 where we have no row).
CREATE VIEW usage_reconciliation AS
SELECT r.serial, r.name, m.day,
       m.tx_bytes AS rms_tx_bytes, m.rx_bytes AS rms_rx_bytes,
       u.tx_bytes AS our_tx_bytes, u.rx_bytes AS our_rx_bytes,
       (m.tx_bytes + m.rx_bytes) - coalesce(u.tx_bytes + u.rx_bytes, 0) AS diff_bytes
FROM rms_usage_daily m
JOIN routers r ON r.id = m.router_id
LEFT JOIN usage_daily u
    ON u.router_id = m.router_id AND u.bucket = (m.day::timestamp AT TIME ZONE 'UTC');

GRANT SELECT ON rms_quota, rms_device_status, usage_reconciliation TO routerlogger_reader;
