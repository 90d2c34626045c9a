package plugin

import (
	"context"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5"
)

// alertRouterOfflineSQL gives the minutes since each router's last sample;
// NULL for a router that never sent one.
const alertRouterOfflineSQL = `SELECT serial, name,
       round((extract(epoch FROM $1::timestamptz - last_seen) / 60)::numeric, 2)::float8
FROM router_latest
ORDER BY serial`

type silence struct {
	serial  string
	name    *string
	minutes *float64
}

// runAlertRouterOffline answers alert_router_offline: a numeric long frame
// of serial, name and minutes_since_last_sample, one row per router, which
// Grafana alerting turns into one number per router labelled by serial
// and name.
func runAlertRouterOffline(ctx context.Context, d *Datasource,
	_ request[noOptions]) (data.Frames, error) {
	rows, cut, err := selectAll(ctx, d, alertRouterOfflineSQL, []any{d.now()},
		func(row pgx.CollectableRow) (silence, error) {
			var s silence
			err := row.Scan(&s.serial, &s.name, &s.minutes)
			return s, err
		})
	if err != nil {
		return nil, err
	}

	n := len(rows)
	serials, names, minutes := make([]string, n), make([]string, n), make([]*float64, n)
	for i, s := range rows {
		serials[i], names[i], minutes[i] = s.serial, labelName(s.serial, s.name), s.minutes
	}
	frame := data.NewFrame("alert_router_offline",
		field("serial", "Serial", "", serials),
		field("name", "Name", "", names),
		field("minutes_since_last_sample", "Minutes since last sample", unitMinutes, minutes),
	).SetMeta(newMeta(data.FrameTypeNumericLong, alertRouterOfflineSQL))
	return truncated(data.Frames{frame}, cut, d.settings.MaxRows), nil
}
