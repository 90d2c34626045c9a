-- Guest Wi-Fi: the captive portal's signed webhooks (ingest/webhook).
-- Every accepted delivery is a row of portal_events, the durable inbox,
-- committed together with the River job that applies it. The job derives
-- the session from all inbox events of its session id, so the order in
-- which deliveries arrive does not matter.

CREATE TABLE portal_events (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    received_at      timestamptz NOT NULL,
    type             text NOT NULL CHECK (type <> ''),
    session_id       text NOT NULL CHECK (session_id <> ''),
    guest_mac        text NOT NULL,
    router_mac       text,
    event_at         timestamptz NOT NULL,
    username         text,
    email            text,
    name             text,
    session_duration integer,
    extra            jsonb NOT NULL DEFAULT '{}',
    processed_at     timestamptz,
    -- The portal sends no event id: an event is its content. A repeated
    -- delivery hits this key and changes nothing.
    CONSTRAINT portal_events_content_key UNIQUE (type, session_id, guest_mac, event_at)
);

CREATE INDEX portal_events_session ON portal_events (session_id);

COMMENT ON TABLE portal_events IS
    'captive-portal webhook inbox, one row per unique event; MACs canonical AA:BB:CC:DD:EE:FF';
COMMENT ON COLUMN portal_events.extra IS 'fields of the delivery this schema does not name';
COMMENT ON COLUMN portal_events.processed_at IS 'when its job last applied it to portal_sessions';

-- One row per portal session, rewritten by the job from all its events.
CREATE TABLE portal_sessions (
    session_id  text PRIMARY KEY,
    guest_mac   text NOT NULL,
    router_mac  text,
    router_id   bigint REFERENCES routers (id),
    email       text,
    started_at  timestamptz,
    ended_at    timestamptz,
    end_reason  text,
    events      integer NOT NULL,
    updated_at  timestamptz NOT NULL
);

CREATE INDEX portal_sessions_router ON portal_sessions (router_id);

-- Events whose job failed on every attempt. Replay clears replayed_at's
-- NULL; a new final failure sets it back.
CREATE TABLE webhook_dead_letters (
    event_id    bigint PRIMARY KEY REFERENCES portal_events (id),
    job_id      bigint NOT NULL,
    attempts    integer NOT NULL,
    last_error  text NOT NULL,
    failed_at   timestamptz NOT NULL,
    replayed_at timestamptz
);

-- Routers are matched by canonical MAC (the core stores AA:BB:CC:DD:EE:FF).
CREATE INDEX IF NOT EXISTS routers_lan_mac ON routers (lan_mac);
CREATE INDEX IF NOT EXISTS routers_wlan_mac ON routers (wlan_mac);

-- The job stores the router it matched; a session whose router joined the
-- fleet (or got its MACs) only later is matched here when it is read.
CREATE VIEW guest_sessions AS
SELECT s.session_id, r.serial AS router_serial, s.guest_mac, s.email,
       s.started_at, s.ended_at, s.end_reason, r.id IS NOT NULL AS matched
FROM portal_sessions s
LEFT JOIN LATERAL (
    SELECT id, serial FROM routers
    WHERE id = s.router_id
       OR (s.router_id IS NULL AND (lan_mac = s.router_mac OR wlan_mac = s.router_mac))
    ORDER BY id LIMIT 1
) r ON true;

-- The dead-letter queue: failed events not replayed since.
CREATE VIEW webhook_dlq AS
SELECT d.event_id, e.type, e.session_id, e.event_at, d.job_id, d.attempts, d.last_error,
       d.failed_at
FROM webhook_dead_letters d
JOIN portal_events e ON e.id = d.event_id
WHERE d.replayed_at IS NULL;

GRANT SELECT ON guest_sessions TO routerlogger_reader;
