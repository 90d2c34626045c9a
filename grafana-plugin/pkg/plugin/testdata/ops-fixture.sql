-- Operations rows for the read-side tests of the plugin and the dashboards,
-- on the fixture day (2025-03-14 UTC; the tests' clock is 2025-03-15
-- 00:00). They are written straight into the tables that the sync runner,
-- the lock registry and the webhook worker own, after the telemetry
-- fixture has registered the routers 6000000001 to 6000000003.

-- Three sync jobs: rms runs every 15 minutes and is mid-run, clickup
-- fails, geo runs daily.
INSERT INTO sync_jobs (job, interval_s, next_attempt_at, consecutive_failures, created_at,
                       updated_at) VALUES
    ('rms', 900, NULL, 0, '2025-03-01 00:00Z', '2025-03-14 23:45Z'),
    ('clickup', 3600, '2025-03-15 00:30Z', 2, '2025-03-01 00:00Z', '2025-03-14 23:00:05Z'),
    ('geo', 86400, NULL, 0, '2025-03-01 00:00Z', '2025-03-14 15:00:01Z');

INSERT INTO sync_run_log (job, holder, started_at, finished_at, status, fetched, changed,
                          failed, skipped, errors, error, cursor, resumed_from) VALUES
    ('rms', 'worker-a', '2025-03-14 22:45Z', '2025-03-14 22:46:10Z', 'ok', 120, 3, 0, 0,
     '{}', NULL, NULL, NULL),
    ('rms', 'worker-b', '2025-03-14 23:00Z', '2025-03-14 23:00:40Z', 'partial', 100, 1, 1, 0,
     '{"device 42: rms: 404 not found"}', 'rms: 429 too many requests, retry after 60s',
     'offset=100', NULL),
    ('rms', 'worker-a', '2025-03-14 23:15Z', '2025-03-14 23:15:20Z', 'ok', 20, 0, 0, 0,
     '{}', NULL, NULL, 'offset=100'),
    ('rms', 'worker-a', '2025-03-14 23:45Z', NULL, 'running', 40, 0, 0, 0,
     '{}', NULL, 'offset=40', NULL),
    ('clickup', 'worker-b', '2025-03-14 20:00Z', '2025-03-14 20:00:30Z', 'ok', 35, 2, 0, 1,
     '{}', NULL, NULL, NULL),
    ('clickup', 'worker-b', '2025-03-14 22:00Z', '2025-03-14 22:00:02Z', 'failed', 0, 0, 0, 0,
     '{}', 'clickup: 401 unauthorized', NULL, NULL),
    ('clickup', 'worker-a', '2025-03-14 23:00Z', '2025-03-14 23:00:05Z', 'failed', 0, 0, 0, 0,
     '{}', 'clickup: 401 unauthorized', NULL, NULL),
    ('geo', 'worker-a', '2025-03-14 03:00Z', '2025-03-14 03:02Z', 'ok', 3, 3, 0, 0,
     '{}', NULL, NULL, NULL),
    ('geo', 'worker-b', '2025-03-14 15:00Z', '2025-03-14 15:00:01Z', 'skipped', 0, 0, 0, 0,
     '{}', 'geo: no provider configured', NULL, NULL);

-- Two held locks (leases in the real future, since the view compares with
-- the database clock): the rms run's, and a lock held for 90 minutes.
INSERT INTO sync_locks (name, holder, token, acquired_at, renewed_at, expires_at) VALUES
    ('sync:rms', 'worker-a', nextval('sync_lock_tokens'), '2025-03-14 23:45Z',
     '2025-03-14 23:59:30Z', now() + interval '1 day'),
    ('maintenance:retention', 'worker-b', nextval('sync_lock_tokens'), '2025-03-14 22:30Z',
     '2025-03-14 23:59:45Z', now() + interval '1 day');

-- Captive-portal inbox: two processed events, two waiting (the oldest
-- received at 23:50), one dead-lettered and one dead-lettered then
-- replayed and processed.
INSERT INTO portal_events (received_at, type, session_id, guest_mac, router_mac, event_at,
                           email, name, processed_at) VALUES
    ('2025-03-14 08:00:02Z', 'guest_login', 'g-1', '02:00:00:AA:00:01', NULL,
     '2025-03-14 08:00Z', 'guest1@example.com', 'Test Guest One', '2025-03-14 08:00:03Z'),
    ('2025-03-14 09:30:02Z', 'guest_logout', 'g-1', '02:00:00:AA:00:01', NULL,
     '2025-03-14 09:30Z', 'guest1@example.com', 'Test Guest One', '2025-03-14 09:30:03Z'),
    ('2025-03-14 23:50Z', 'guest_login', 'g-7', '02:00:00:AA:00:07', NULL,
     '2025-03-14 23:49:58Z', 'guest7@example.com', NULL, NULL),
    ('2025-03-14 23:58Z', 'guest_logout', 'g-4', '02:00:00:AA:00:04', NULL,
     '2025-03-14 23:57:59Z', NULL, NULL, NULL),
    ('2025-03-14 21:00Z', 'guest_login', 'g-bad', '02:00:00:AA:00:99', NULL,
     '2025-03-14 20:59:59Z', 'guest99@example.com', NULL, NULL),
    ('2025-03-14 19:00Z', 'guest_login', 'g-replayed', '02:00:00:AA:00:98', NULL,
     '2025-03-14 18:59:59Z', NULL, NULL, '2025-03-14 19:40Z');

INSERT INTO webhook_dead_letters (event_id, job_id, attempts, last_error, failed_at, replayed_at)
SELECT id, 41, 10, 'portal event ' || id || ': session "g-bad": upsert: deadlock detected',
       '2025-03-14 21:30Z', NULL
FROM portal_events WHERE session_id = 'g-bad';

INSERT INTO webhook_dead_letters (event_id, job_id, attempts, last_error, failed_at, replayed_at)
SELECT id, 40, 10, 'portal event ' || id || ': commit: connection reset',
       '2025-03-14 19:30Z', '2025-03-14 19:39Z'
FROM portal_events WHERE session_id = 'g-replayed';

-- Guest sessions on two routers and one on a router not in the fleet;
-- g-4 and g-5 are still open at midnight, g-9 ended before the day.
INSERT INTO portal_sessions (session_id, guest_mac, router_mac, router_id, email, started_at,
                             ended_at, end_reason, events, updated_at)
SELECT s.session_id, s.guest_mac, m.router_mac, r.id, s.email, s.started_at::timestamptz,
       s.ended_at::timestamptz, s.end_reason, 2, '2025-03-14 23:59Z'
FROM (VALUES
    ('g-1', '02:00:00:AA:00:01', '6000000001', 'guest1@example.com',
     '2025-03-14 08:00Z', '2025-03-14 09:30Z', 'guest_logout'),
    ('g-2', '02:00:00:AA:00:02', '6000000001', 'guest2@example.com',
     '2025-03-14 12:00Z', '2025-03-14 12:45Z', 'session_expired'),
    ('g-3', '02:00:00:AA:00:03', '6000000002', NULL,
     '2025-03-14 18:00Z', '2025-03-14 20:00Z', 'guest_logout'),
    ('g-4', '02:00:00:AA:00:04', '6000000002', 'guest4@example.com',
     '2025-03-14 23:30Z', NULL, NULL),
    ('g-5', '02:00:00:AA:00:05', '6000000001', NULL,
     '2025-03-14 23:40Z', NULL, NULL),
    ('g-6', '02:00:00:AA:00:06', NULL, 'guest6@example.com',
     '2025-03-14 14:00Z', '2025-03-14 14:20Z', 'session_expired'),
    ('g-9', '02:00:00:AA:00:09', '6000000003', NULL,
     '2025-03-13 10:00Z', '2025-03-13 11:00Z', 'guest_logout')
) AS s (session_id, guest_mac, serial, email, started_at, ended_at, end_reason)
LEFT JOIN routers r ON r.serial = s.serial
CROSS JOIN LATERAL (SELECT CASE WHEN s.serial IS NULL THEN '02:00:00:00:00:FF' END)
    AS m (router_mac);

-- OAuth: RMS authorised, ClickUp refused its token and needs an operator.
-- The tokens are placeholders: the plugin never reads them.
INSERT INTO oauth_tokens (provider, key_id, access_token, refresh_token, token_type, expires_at,
                          state, last_error, updated_at) VALUES
    ('rms', 'k1', '\x00', '\x00', 'Bearer', '2025-03-15 00:45Z', 'ok', NULL,
     '2025-03-14 23:45Z'),
    ('clickup', 'k1', '\x00', NULL, 'Bearer', NULL, 'needs_reauth',
     'clickup: 401 unauthorized: token revoked', '2025-03-14 22:00:02Z');

-- RMS: this month's requests are at 85% of the quota, and RMS's usage of
-- the fixture day beside ours for two routers.
INSERT INTO rms_quota_requests (month, requests, quota, updated_at) VALUES
    ('2025-02-01', 6100, 10000, '2025-02-28 23:59Z'),
    ('2025-03-01', 8500, 10000, '2025-03-14 23:45Z');

INSERT INTO rms_usage_daily (router_id, day, tx_bytes, rx_bytes, fetched_at)
SELECT r.id, '2025-03-14', u.tx, u.rx, '2025-03-14 23:45Z'
FROM (VALUES ('6000000001', 97552653, 580000000), ('6000000002', 50000000, 300000000))
    AS u (serial, tx, rx)
JOIN routers r ON r.serial = u.serial;

-- Properties: 6000000001 serves the Harbour Hotel all day; 6000000002
-- joined the Old Mill B&B at 15:00; 6000000003 serves none.
INSERT INTO properties (name) VALUES ('Harbour Hotel'), ('Old Mill B&B');

INSERT INTO router_properties (router_id, property_id, valid_from, valid_to, source)
SELECT r.id, p.id, a.valid_from::timestamptz, NULL, 'cli'
FROM (VALUES ('6000000001', 'Harbour Hotel', '2025-03-01 00:00Z'),
             ('6000000002', 'Old Mill B&B', '2025-03-14 15:00Z'))
    AS a (serial, property, valid_from)
JOIN routers r ON r.serial = a.serial
JOIN properties p ON p.name = a.property;
