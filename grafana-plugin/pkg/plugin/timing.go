package plugin

import (
	"fmt"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// binOrigin aligns every bucket of date_bin: midnight UTC, so that hours
// and days start where the rollups' buckets do.
var binOrigin = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// day is the width of a daily rollup bucket.
const day = 24 * time.Hour

// grid is the time axis of a time series query.
type grid struct {
	from, to time.Time
	// width is the bucket width: a whole multiple of the unit asked for.
	width time.Duration
}

// newGrid returns the grid of q: buckets at least unit wide, at least as
// wide as the interval Grafana suggests, and wide enough that the range
// holds no more than MaxDataPoints of them, rounded up to a whole number
// of units.
func newGrid(q backend.DataQuery, unit time.Duration) grid {
	g := grid{from: q.TimeRange.From.UTC(), to: q.TimeRange.To.UTC(), width: unit}
	g.width = max(g.width, q.Interval)
	if q.MaxDataPoints > 0 {
		g.width = max(g.width, g.to.Sub(g.from)/time.Duration(q.MaxDataPoints))
	}
	if rem := g.width % unit; rem != 0 {
		g.width += unit - rem
	}
	return g
}

// interval is the width as a PostgreSQL interval literal.
func (g grid) interval() string {
	return fmt.Sprintf("%d seconds", int64(g.width/time.Second))
}

// checkRange checks that the query's time range is usable.
func checkRange(tr backend.TimeRange) error {
	if tr.From.IsZero() || tr.To.IsZero() {
		return fmt.Errorf("time range %s to %s: both ends must be set", tr.From, tr.To)
	}
	if !tr.To.After(tr.From) {
		return fmt.Errorf("time range %s to %s: the end must be after the start",
			tr.From.UTC().Format(time.RFC3339), tr.To.UTC().Format(time.RFC3339))
	}
	return nil
}

// rollup is one of the usage rollups: the views to read and their bucket
// width.
type rollup struct {
	routerView string // per router: serial, name, bucket, tx_bytes, rx_bytes, total_bytes
	fleetView  string // fleet: bucket, tx_bytes, rx_bytes, total_bytes
	unit       time.Duration
}

var (
	hourlyRollup = rollup{"router_usage_hourly", "fleet_usage_hourly", time.Hour}
	dailyRollup  = rollup{"router_usage_daily", "fleet_usage_daily", day}
)

// usageGrid chooses the rollup for q, hourly while the buckets are
// narrower than a day and daily from then on, and its grid. Usage never
// comes from raw samples.
func usageGrid(q backend.DataQuery) (rollup, grid) {
	g := newGrid(q, time.Hour)
	if g.width < day {
		return hourlyRollup, g
	}
	return dailyRollup, newGrid(q, day)
}

// totalsRollup chooses the rollup for totals over a range: hourly up to 31
// days, so that partial days count by the hour, daily beyond.
func totalsRollup(tr backend.TimeRange) rollup {
	if tr.To.Sub(tr.From) <= 31*day {
		return hourlyRollup
	}
	return dailyRollup
}

// overlapStart is the earliest bucket start of a rollup whose bucket
// overlaps a range starting at from: buckets are read when they start
// after from minus one unit and before the end.
func (r rollup) overlapStart(from time.Time) time.Time {
	return from.Add(-r.unit)
}
