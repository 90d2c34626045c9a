package plugin

import (
	"context"
	"fmt"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5"
)

// alertSlowQueriesSQL counts the other sessions of the database whose
// current query has run longer than the threshold. db_activity never
// shows query text.
const alertSlowQueriesSQL = `SELECT count(*)
FROM db_activity()
WHERE pid <> pg_backend_pid() AND duration_seconds > $1`

// The bounds and default of thresholdSeconds.
const (
	defaultThresholdSeconds = 5
	maxThresholdSeconds     = 86400
)

// slowQueriesOptions are the options of alert_slow_queries.
type slowQueriesOptions struct {
	ThresholdSeconds *float64 `json:"thresholdSeconds"`
}

func (o *slowQueriesOptions) normalize() error {
	if o.ThresholdSeconds == nil {
		n := float64(defaultThresholdSeconds)
		o.ThresholdSeconds = &n
	}
	if *o.ThresholdSeconds < 0 || *o.ThresholdSeconds > maxThresholdSeconds {
		return fmt.Errorf("thresholdSeconds %g: out of range (allowed 0 to %d)",
			*o.ThresholdSeconds, maxThresholdSeconds)
	}
	return nil
}

var thresholdSecondsDoc = OptionDoc{
	Name: "thresholdSeconds", Type: "number", Default: defaultThresholdSeconds,
	Description: "count queries running longer than this many seconds",
}

// runAlertSlowQueries answers alert_slow_queries: one number.
func runAlertSlowQueries(ctx context.Context, d *Datasource,
	r request[slowQueriesOptions]) (data.Frames, error) {
	args := []any{*r.Opts.ThresholdSeconds}
	rows, _, err := selectAll(ctx, d, alertSlowQueriesSQL, args, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	return data.Frames{number("alert_slow_queries", "slow_queries", "Slow queries", "",
		rows[0], alertSlowQueriesSQL)}, nil
}
