package plugin

import (
	"context"
	"fmt"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5"
)

// alertRejectRateSQL totals the rejected and all readings of the minutes
// in the window ending now.
const alertRejectRateSQL = `SELECT coalesce(sum(rejected), 0)::bigint,
       coalesce(sum(accepted + duplicates + rejected), 0)::bigint
FROM ingest_health
WHERE minute > $1::timestamptz - $2::interval AND minute <= $1`

// The bounds and default of windowMinutes.
const (
	defaultWindowMinutes = 15
	maxWindowMinutes     = 1440
)

// rejectRateOptions are the options of alert_reject_rate.
type rejectRateOptions struct {
	WindowMinutes *int `json:"windowMinutes"`
}

func (o *rejectRateOptions) normalize() error {
	if o.WindowMinutes == nil {
		n := defaultWindowMinutes
		o.WindowMinutes = &n
	}
	if *o.WindowMinutes < 1 || *o.WindowMinutes > maxWindowMinutes {
		return fmt.Errorf("windowMinutes %d: out of range (allowed 1 to %d)", *o.WindowMinutes, maxWindowMinutes)
	}
	return nil
}

var windowMinutesDoc = OptionDoc{
	Name: "windowMinutes", Type: "number", Default: defaultWindowMinutes,
	Description: fmt.Sprintf("the window ending now, in minutes, 1 to %d", maxWindowMinutes),
}

// runAlertRejectRate answers alert_reject_rate: one number, the share of
// readings rejected over the window (0 when none arrived).
func runAlertRejectRate(ctx context.Context, d *Datasource,
	r request[rejectRateOptions]) (data.Frames, error) {
	window := fmt.Sprintf("%d minutes", *r.Opts.WindowMinutes)
	rows, _, err := selectAll(ctx, d, alertRejectRateSQL, []any{d.now(), window},
		func(row pgx.CollectableRow) ([2]int64, error) {
			var v [2]int64
			err := row.Scan(&v[0], &v[1])
			return v, err
		})
	if err != nil {
		return nil, err
	}
	rate := rejectRate(rows[0][0], rows[0][1])
	return data.Frames{number("alert_reject_rate", "reject_rate", "Reject rate", unitPercent,
		rate, alertRejectRateSQL)}, nil
}
