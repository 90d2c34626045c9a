-- Leased locks for jobs that must not overlap across instances (package
-- internal/locks). A row is held while expires_at lies in the future; its
-- holder renews the lease while it works and deletes the row when done, so
-- a holder that dies without releasing frees the lock when its lease runs
-- out. Leases are reckoned on the database clock, never on an instance's.
-- token is a fencing token: every acquisition draws a new, larger one, and
-- renewal and release match it, so a holder that lost its lock can never
-- renew or release its successor's.
CREATE SEQUENCE sync_lock_tokens;

CREATE TABLE sync_locks (
    name        text PRIMARY KEY CHECK (name <> ''),
    holder      text NOT NULL,
    token       bigint NOT NULL,
    acquired_at timestamptz NOT NULL,
    renewed_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    CHECK (renewed_at >= acquired_at AND expires_at > renewed_at)
);

-- locks is the registry of held locks for SQL and Grafana: a lock whose
-- lease has run out is free and not listed.
CREATE VIEW locks AS
SELECT name, holder, acquired_at, renewed_at
FROM sync_locks
WHERE expires_at > now();

GRANT SELECT ON locks TO routerlogger_reader;
