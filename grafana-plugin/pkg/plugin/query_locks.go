package plugin

import (
	"context"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// locksSQL lists the held locks with how long each has been held and when
// its holder last renewed it, on the datasource's clock ($1).
const locksSQL = `SELECT name, holder, acquired_at, renewed_at,
       round((extract(epoch FROM $1::timestamptz - acquired_at) / 60)::numeric, 1)::float8,
       round(extract(epoch FROM $1::timestamptz - renewed_at)::numeric, 1)::float8
FROM locks
ORDER BY acquired_at, name`

// runLocks answers locks: a table of the held job locks, oldest first.
func runLocks(ctx context.Context, d *Datasource, _ request[noOptions]) (data.Frames, error) {
	return selectTable(ctx, d, "locks", locksSQL, []any{d.now()}, []column{
		{"name", "Lock", ""},
		{"holder", "Holder", ""},
		{"acquired_at", "Acquired", ""},
		{"renewed_at", "Renewed", ""},
		{"held_minutes", "Held", unitMinutes},
		{"seconds_since_renewal", "Since renewal", unitSeconds},
	})
}
