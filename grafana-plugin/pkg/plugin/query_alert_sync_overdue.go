package plugin

import (
	"context"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5"
)

// alertSyncOverdueSQL gives 1 for each sync job with no run ended ok
// within twice its interval, else 0.
const alertSyncOverdueSQL = `SELECT h.job, (` + syncOverdueSQL + `)::int::bigint
FROM sync_job_health h
ORDER BY h.job`

// runAlertSyncOverdue answers alert_sync_overdue: a numeric long frame of
// job and overdue (1 or 0), one row per sync job, which alerting turns
// into one number per job labelled by job.
func runAlertSyncOverdue(ctx context.Context, d *Datasource,
	_ request[noOptions]) (data.Frames, error) {
	rows, cut, err := selectAll(ctx, d, alertSyncOverdueSQL, []any{d.now()},
		func(row pgx.CollectableRow) (labelled[int64], error) {
			l := labelled[int64]{labels: make([]string, 1)}
			err := row.Scan(&l.labels[0], &l.value)
			return l, err
		})
	if err != nil {
		return nil, err
	}
	frame := longFrame("alert_sync_overdue", alertSyncOverdueSQL,
		[]column{{"job", "Job", ""}}, column{"overdue", "Overdue", ""}, rows)
	return truncated(data.Frames{frame}, cut, d.settings.MaxRows), nil
}
