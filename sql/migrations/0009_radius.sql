-- RADIUS accounting (ingest/webhook, POST /api/v1/webhooks/radius-accounting).
-- FreeRADIUS's rest module posts every accounting record; each unique
-- record is a row of radius_accounting, the inbox. In the same transaction
-- the record's session row in radius_sessions is locked and rederived from
-- all inbox records of the session, so arrival order does not matter.

CREATE TABLE radius_accounting (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at       timestamptz NOT NULL,
    status_type       text NOT NULL CHECK (status_type IN ('Start', 'Interim-Update', 'Stop')),
    session_id        text NOT NULL CHECK (session_id <> ''),
    guest_mac         text NOT NULL,
    user_name         text,
    called_station_id text,
    router_mac        text,
    ssid              text,
    event_at          timestamptz NOT NULL,
    session_time      bigint CHECK (session_time >= 0),
    input_bytes       bigint CHECK (input_bytes >= 0),
    output_bytes      bigint CHECK (output_bytes >= 0),
    attributes        jsonb NOT NULL DEFAULT '{}',
    -- A record is its content: a repeated delivery (FreeRADIUS retries, a
    -- replayed detail file) hits this key and changes nothing.
    CONSTRAINT radius_accounting_content_key
        UNIQUE (status_type, session_id, guest_mac, event_at)
);

CREATE INDEX radius_accounting_session ON radius_accounting (session_id, guest_mac);

COMMENT ON TABLE radius_accounting IS
    'RADIUS accounting inbox, one row per unique record; MACs canonical AA:BB:CC:DD:EE:FF';
COMMENT ON COLUMN radius_accounting.input_bytes IS
    'Acct-Input-Gigawords << 32 + Acct-Input-Octets, exact; NULL when the record has neither';
COMMENT ON COLUMN radius_accounting.output_bytes IS
    'Acct-Output-Gigawords << 32 + Acct-Output-Octets, exact; NULL when the record has neither';
COMMENT ON COLUMN radius_accounting.router_mac IS
    'canonical MAC of Called-Station-Id (before any :SSID); NULL when it is no MAC';
COMMENT ON COLUMN radius_accounting.attributes IS 'the record as posted';

-- One row per accounting session (Acct-Session-Id and guest MAC: session
-- ids are unique per NAS only). started_at is the earliest Start,
-- stopped_at the latest Stop. The counters (cumulative per session) are
-- those of the latest record that carries counters and is not later than
-- stopped_at: a record after the Stop neither reopens the session nor
-- changes its totals.
CREATE TABLE radius_sessions (
    session_id     text NOT NULL,
    guest_mac      text NOT NULL,
    user_name      text,
    router_mac     text,
    ssid           text,
    router_id      bigint REFERENCES routers (id),
    started_at     timestamptz,
    stopped_at     timestamptz,
    counters_at    timestamptz,
    input_bytes    bigint,
    output_bytes   bigint,
    session_time_s bigint,
    records        integer NOT NULL DEFAULT 0,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (session_id, guest_mac)
);

CREATE INDEX radius_sessions_router ON radius_sessions (router_id);

COMMENT ON COLUMN radius_sessions.counters_at IS 'event time of the record the counters come from';

-- Like guest_sessions: a session whose router joined the fleet (or got its
-- MACs) only later is matched when it is read.
CREATE VIEW guest_radius_sessions AS
SELECT s.session_id, r.serial AS router_serial, s.guest_mac, s.user_name, s.ssid,
       s.started_at, s.stopped_at, s.input_bytes, s.output_bytes, s.session_time_s,
       r.id IS NOT NULL AS matched
FROM radius_sessions s
LEFT JOIN LATERAL (
    SELECT id, serial FROM routers
    WHERE id = s.router_id
       OR (s.router_id IS NULL AND (lan_mac = s.router_mac OR wlan_mac = s.router_mac))
    ORDER BY id LIMIT 1
) r ON true;

GRANT SELECT ON guest_radius_sessions TO routerlogger_reader;
