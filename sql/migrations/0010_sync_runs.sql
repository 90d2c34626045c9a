-- Sync jobs (package sync/syncrun): the jobs known to the instances and
-- every run of them. A run row is written when the run starts (status
-- running) and again at every checkpoint and when it ends, so a run whose
-- process died stays visible: the next run of the job, which holds the
-- job's lock, marks it failed ("interrupted") and resumes from its cursor.

CREATE TABLE sync_jobs (
    job                  text PRIMARY KEY CHECK (job <> ''),
    interval_s           integer NOT NULL CHECK (interval_s > 0),
    -- next_attempt_at holds back a periodic run after a failed or partial
    -- one (back-off); NULL: run at the next tick.
    next_attempt_at      timestamptz,
    consecutive_failures integer NOT NULL DEFAULT 0,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sync_run_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job         text NOT NULL,
    holder      text NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    status      text NOT NULL DEFAULT 'running'
        CHECK (status IN ('running', 'ok', 'partial', 'failed', 'skipped')),
    fetched     integer NOT NULL DEFAULT 0,
    changed     integer NOT NULL DEFAULT 0,
    failed      integer NOT NULL DEFAULT 0,
    skipped     integer NOT NULL DEFAULT 0,
    -- errors keeps the first errors of the run (a handful), error the
    -- reason of a failed, partial or skipped run.
    errors      text[] NOT NULL DEFAULT '{}',
    error       text,
    -- cursor is where an interrupted run stopped; the job's own format
    -- (for example an RMS page offset). NULL once a run got to the end.
    cursor      text,
    resumed_from text,
    CHECK ((status = 'running') = (finished_at IS NULL))
);

CREATE INDEX sync_run_log_job ON sync_run_log (job, started_at DESC);

COMMENT ON TABLE sync_run_log IS 'every run of a sync job; read it through the view sync_runs';

-- sync_runs is the run history for SQL and Grafana.
CREATE VIEW sync_runs AS
SELECT id, job, started_at, finished_at, status, fetched, changed, failed, skipped,
       coalesce(error, errors[1]) AS error, errors, cursor, holder
FROM sync_run_log;

-- sync_job_health is one row per job: its last run and last success, and
-- overdue when no run ended ok within twice the job's interval (counted
-- from the job's registration while it never succeeded). A partial run is
-- not a success here: it stopped early (rate limit, quota).
CREATE VIEW sync_job_health AS
SELECT j.job,
       j.interval_s,
       last.started_at  AS last_run_at,
       last.status      AS last_status,
       ok.finished_at   AS last_success_at,
       j.next_attempt_at,
       j.consecutive_failures,
       coalesce(ok.finished_at, j.created_at)
           < now() - make_interval(secs => 2 * j.interval_s) AS overdue
FROM sync_jobs j
LEFT JOIN LATERAL (
    SELECT started_at, status FROM sync_run_log r
    WHERE r.job = j.job ORDER BY started_at DESC LIMIT 1) last ON true
LEFT JOIN LATERAL (
    SELECT finished_at FROM sync_run_log r
    WHERE r.job = j.job AND r.status = 'ok'
    ORDER BY finished_at DESC LIMIT 1) ok ON true;

GRANT SELECT ON sync_runs, sync_job_health TO routerlogger_reader;
