package plugin

import (
	"context"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// syncRunsSQL lists the runs that overlap the range, newest first. A run
// still going lasts until now ($3).
const syncRunsSQL = `SELECT id, job, started_at, finished_at,
       round(extract(epoch FROM coalesce(finished_at, greatest($3::timestamptz, started_at))
                                - started_at)::numeric, 1)::float8,
       status, fetched, changed, failed, skipped, error, cursor, holder
FROM sync_runs
WHERE started_at < $2 AND coalesce(finished_at, 'infinity') >= $1
  AND (cardinality($4::text[]) = 0 OR job = ANY($4))
  AND (cardinality($5::text[]) = 0 OR status = ANY($5))
ORDER BY started_at DESC, id DESC`

// syncStatuses are the statuses of a sync run.
var syncStatuses = []string{"ok", "partial", "failed", "skipped", "running"}

// jobFilter is the "jobs" option: sync job names to keep, or every job.
type jobFilter struct {
	Jobs nameList `json:"jobs"`
}

func (f *jobFilter) normalize() error {
	return f.Jobs.normalize("jobs", nil)
}

// syncRunsOptions are the options of sync_runs.
type syncRunsOptions struct {
	jobFilter
	Statuses nameList `json:"statuses"`
}

func (o *syncRunsOptions) normalize() error {
	if err := o.jobFilter.normalize(); err != nil {
		return err
	}
	return o.Statuses.normalize("statuses", syncStatuses)
}

var (
	jobsDoc = OptionDoc{
		Name: "jobs", Type: "string[]", Default: []string{},
		Description: "sync jobs to show, such as rms or clickup; empty means every job",
	}
	statusesDoc = OptionDoc{
		Name: "statuses", Type: "string[]", Default: []string{}, Values: syncStatuses,
		Description: "run statuses to show; empty means all",
	}
)

// runSyncRuns answers sync_runs: a table of the runs of the sync jobs that
// overlap the time range, newest first.
func runSyncRuns(ctx context.Context, d *Datasource, r request[syncRunsOptions]) (data.Frames, error) {
	args := []any{r.TimeRange.From, r.TimeRange.To, d.now(), []string(r.Opts.Jobs),
		[]string(r.Opts.Statuses)}
	return selectTable(ctx, d, "sync_runs", syncRunsSQL, args, []column{
		{"id", "Run", ""},
		{"job", "Job", ""},
		{"started_at", "Started", ""},
		{"finished_at", "Finished", ""},
		{"duration_s", "Duration", unitSeconds},
		{"status", "Status", ""},
		{"fetched", "Fetched", ""},
		{"changed", "Changed", ""},
		{"failed", "Failed", ""},
		{"skipped", "Skipped", ""},
		{"error", "Error", ""},
		{"cursor", "Cursor", ""},
		{"holder", "Instance", ""},
	})
}
