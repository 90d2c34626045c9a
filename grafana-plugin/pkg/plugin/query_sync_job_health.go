package plugin

import (
	"context"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// syncOverdueSQL is sync_job_health's overdue rule on the datasource's
// clock ($1) rather than the database's: no run ended ok within twice the
// job's interval. A job that never succeeded keeps the view's answer,
// which counts from the job's registration.
const syncOverdueSQL = `CASE WHEN h.last_success_at IS NULL THEN h.overdue
            ELSE h.last_success_at < $1::timestamptz - make_interval(secs => 2 * h.interval_s)
       END`

// syncJobHealthSQL gives each job's health and the count of its runs per
// status that started in the range.
const syncJobHealthSQL = `SELECT h.job, h.interval_s, h.last_run_at, h.last_status, h.last_success_at,
       round((extract(epoch FROM $1::timestamptz - h.last_success_at) / 60)::numeric, 1)::float8,
       h.next_attempt_at, h.consecutive_failures,
       ` + syncOverdueSQL + `,
       coalesce(c.runs, 0), coalesce(c.ok, 0), coalesce(c.partial, 0), coalesce(c.failed, 0),
       coalesce(c.skipped, 0)
FROM sync_job_health h
LEFT JOIN LATERAL (
    SELECT count(*) AS runs, count(*) FILTER (WHERE status = 'ok') AS ok,
           count(*) FILTER (WHERE status = 'partial') AS partial,
           count(*) FILTER (WHERE status = 'failed') AS failed,
           count(*) FILTER (WHERE status = 'skipped') AS skipped
    FROM sync_runs r
    WHERE r.job = h.job AND r.started_at >= $2 AND r.started_at < $3) c ON true
WHERE cardinality($4::text[]) = 0 OR h.job = ANY($4)
ORDER BY h.job`

// syncJobHealthOptions are the options of sync_job_health.
type syncJobHealthOptions struct {
	jobFilter
}

// runSyncJobHealth answers sync_job_health: one row per sync job with its
// last run, last success, back-off, whether it is overdue, and its runs
// in the time range by status.
func runSyncJobHealth(ctx context.Context, d *Datasource,
	r request[syncJobHealthOptions]) (data.Frames, error) {
	args := []any{d.now(), r.TimeRange.From, r.TimeRange.To, []string(r.Opts.Jobs)}
	return selectTable(ctx, d, "sync_job_health", syncJobHealthSQL, args, []column{
		{"job", "Job", ""},
		{"interval_s", "Interval", unitSeconds},
		{"last_run_at", "Last run", ""},
		{"last_status", "Last status", ""},
		{"last_success_at", "Last success", ""},
		{"minutes_since_success", "Since success", unitMinutes},
		{"next_attempt_at", "Next attempt", ""},
		{"consecutive_failures", "Failures in a row", ""},
		{"overdue", "Overdue", ""},
		{"runs", "Runs", ""},
		{"ok", "OK", ""},
		{"partial", "Partial", ""},
		{"failed", "Failed", ""},
		{"skipped", "Skipped", ""},
	})
}
