-- Guest Wi-Fi webhooks, the rest of issue 6: admin and portal tokens, a
-- discarded state for dead letters, and indexes for the inbox lag gauge,
-- the orphan sweep and the guest PII retention job.

-- 'admin' tokens manage the dead-letter queue over HTTP; 'portal' tokens
-- let a captive portal that cannot sign post with a bearer token (only
-- when ROUTERLOGGER_PORTAL_BEARER is on); the note names the portal.
ALTER TABLE api_tokens DROP CONSTRAINT api_tokens_scope_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_scope_check
    CHECK (scope IN ('fleet', 'router', 'admin', 'portal'));

-- A discarded dead letter leaves the queue for good: it is not counted in
-- routerlogger_dlq_depth and is replayed only when forced, which clears
-- discarded_at. A new final failure clears it too.
ALTER TABLE webhook_dead_letters ADD COLUMN discarded_at timestamptz;

CREATE OR REPLACE VIEW webhook_dlq AS
SELECT d.event_id, e.type, e.session_id, e.event_at, d.job_id, d.attempts, d.last_error,
       d.failed_at
FROM webhook_dead_letters d
JOIN portal_events e ON e.id = d.event_id
WHERE d.replayed_at IS NULL AND d.discarded_at IS NULL;

-- Unprocessed inbox events: the lag gauge and the orphan sweep read only
-- these.
CREATE INDEX portal_events_unprocessed ON portal_events (received_at) WHERE processed_at IS NULL;

-- The retention job finds ended sessions whose guest data is still there.
CREATE INDEX portal_sessions_pii ON portal_sessions (ended_at)
    WHERE email IS NOT NULL;
