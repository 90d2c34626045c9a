package plugin

import (
	"context"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5"
)

// alertLockHeldSQL gives the minutes each held lock has been held, on the
// datasource's clock ($1).
const alertLockHeldSQL = `SELECT name, holder,
       round((extract(epoch FROM $1::timestamptz - acquired_at) / 60)::numeric, 2)::float8
FROM locks
ORDER BY name`

// runAlertLockHeld answers alert_lock_held: a numeric long frame of lock,
// holder and minutes_held, one row per held lock, which alerting turns
// into one number per lock labelled by lock and holder. No lock held is
// no data.
func runAlertLockHeld(ctx context.Context, d *Datasource, _ request[noOptions]) (data.Frames, error) {
	rows, cut, err := selectAll(ctx, d, alertLockHeldSQL, []any{d.now()},
		func(row pgx.CollectableRow) (labelled[float64], error) {
			l := labelled[float64]{labels: make([]string, 2)}
			err := row.Scan(&l.labels[0], &l.labels[1], &l.value)
			return l, err
		})
	if err != nil {
		return nil, err
	}
	frame := longFrame("alert_lock_held", alertLockHeldSQL,
		[]column{{"lock", "Lock", ""}, {"holder", "Holder", ""}},
		column{"minutes_held", "Minutes held", unitMinutes}, rows)
	return truncated(data.Frames{frame}, cut, d.settings.MaxRows), nil
}
