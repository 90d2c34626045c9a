package plugin

import (
	"context"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// guestSummarySQL totals the captive-portal sessions per router: those
// that started in the range, those open now ($3), and the durations of
// those that started in the range and have ended. Sessions on no known
// router make one row with no serial.
const guestSummarySQL = guestSessionsInRangeSQL + `
SELECT router_serial, coalesce(router_name, router_serial, '` + unmatchedName + `'),
       ` + guestAggregatesSQL + `
FROM s
GROUP BY router_serial, router_name
ORDER BY router_serial NULLS LAST`

// guestSessionsInRangeSQL selects, as s, the sessions of the routers in
// $4 (all when empty) that overlap the range [$1, $2) or are open now
// ($3), marking those that started in the range and their durations.
const guestSessionsInRangeSQL = `WITH s AS (
    SELECT router_serial, router_name, property, started_at, ended_at,
           started_at >= $1 AND started_at < $2 AS in_range,
           extract(epoch FROM ended_at - started_at)::float8 AS duration_s
    FROM guest_session_times
    WHERE (cardinality($4::text[]) = 0 OR router_serial = ANY($4))
      AND started_at < greatest($2, $3) AND (ended_at IS NULL OR ended_at >= $1))`

// guestAggregatesSQL totals a group of s: sessions started in the range,
// open now, ended, and the median, mean and longest duration of those
// that started in the range and ended.
const guestAggregatesSQL = `count(*) FILTER (WHERE in_range),
       count(*) FILTER (WHERE started_at <= $3 AND (ended_at IS NULL OR ended_at > $3)),
       count(*) FILTER (WHERE in_range AND duration_s IS NOT NULL),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_s) FILTER (WHERE in_range),
       avg(duration_s) FILTER (WHERE in_range),
       max(duration_s) FILTER (WHERE in_range)`

// guestAggregateColumns are the fields of guestAggregatesSQL.
var guestAggregateColumns = []column{
	{"sessions", "Sessions", ""},
	{"active_now", "Active now", ""},
	{"ended", "Ended", ""},
	{"median_duration_s", "Median duration", unitSeconds},
	{"mean_duration_s", "Mean duration", unitSeconds},
	{"max_duration_s", "Longest", unitSeconds},
}

// guestSummaryOptions are the options of guest_session_summary.
type guestSummaryOptions struct {
	routerFilter
}

// runGuestSessionSummary answers guest_session_summary: one row per router
// with its guest sessions in the range, those active now and the median,
// mean and longest duration of the ended ones.
func runGuestSessionSummary(ctx context.Context, d *Datasource,
	r request[guestSummaryOptions]) (data.Frames, error) {
	args := []any{r.TimeRange.From, r.TimeRange.To, d.now(), r.Opts.serials()}
	cols := append([]column{{"serial", "Serial", ""}, {"name", "Router", ""}},
		guestAggregateColumns...)
	return selectTable(ctx, d, "guest_session_summary", guestSummarySQL, args, cols)
}
