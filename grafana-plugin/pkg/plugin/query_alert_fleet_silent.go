package plugin

import (
	"context"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5"
)

// alertFleetSilentSQL gives the minutes since the newest sample of any
// router; NULL when there is none.
const alertFleetSilentSQL = `SELECT
       round((extract(epoch FROM $1::timestamptz - max(last_seen)) / 60)::numeric, 2)::float8
FROM router_latest`

// runAlertFleetSilent answers alert_fleet_silent: one number.
func runAlertFleetSilent(ctx context.Context, d *Datasource,
	_ request[noOptions]) (data.Frames, error) {
	rows, _, err := selectAll(ctx, d, alertFleetSilentSQL, []any{d.now()}, pgx.RowTo[*float64])
	if err != nil {
		return nil, err
	}
	return data.Frames{number("alert_fleet_silent", "minutes_since_last_sample",
		"Minutes since the fleet's last sample", unitMinutes, rows[0], alertFleetSilentSQL)}, nil
}

// number is a numeric wide frame holding one value, which Grafana
// alerting reads as a single number.
func number[T any](frame, name, display, unit string, v T, sql string) *data.Frame {
	return data.NewFrame(frame, field(name, display, unit, []T{v})).
		SetMeta(newMeta(data.FrameTypeNumericWide, sql))
}
