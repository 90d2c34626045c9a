-- Reader-facing views for the Grafana panels and alerts of the guest Wi-Fi
-- webhooks (grafana-plugin). They carry no guest personal data: no e-mail,
-- name, user name or guest MAC. The sync jobs' views (sync_runs,
-- sync_job_health, locks) are granted where they are made.

-- guest_session_times is guest_sessions without the guest: when, on which
-- router and at which property (the router's when the session started)
-- each captive-portal session ran, and how it ended.
CREATE VIEW guest_session_times AS
SELECT g.session_id, g.router_serial, r.name AS router_name, p.name AS property,
       g.started_at, g.ended_at, g.end_reason, g.matched
FROM guest_sessions g
LEFT JOIN routers r ON r.serial = g.router_serial
LEFT JOIN router_properties a
    ON a.router_id = r.id AND a.valid_from <= g.started_at
   AND (a.valid_to IS NULL OR a.valid_to > g.started_at)
LEFT JOIN properties p ON p.id = a.property_id;

-- portal_inbox is the captive-portal inbox backlog: events whose job has
-- not applied them yet, and when the oldest was received. An event in the
-- dead-letter table (queued, or discarded) is no longer waiting for its
-- job and is counted by webhook_dlq instead; a replayed one waits again.
CREATE VIEW portal_inbox AS
SELECT count(*) AS pending, min(e.received_at) AS oldest_received_at
FROM portal_events e
WHERE e.processed_at IS NULL
  AND NOT EXISTS (
      SELECT 1 FROM webhook_dead_letters d
      WHERE d.event_id = e.id AND d.replayed_at IS NULL);

-- webhook_dlq (0007) names no guest data: event, session id, attempts and
-- the job's last error.
GRANT SELECT ON guest_session_times, portal_inbox, webhook_dlq TO routerlogger_reader;
