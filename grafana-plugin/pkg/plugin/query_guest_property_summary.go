package plugin

import (
	"context"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// noPropertyName names the row of sessions on routers that served no
// property when the session started.
const noPropertyName = "no property"

// guestPropertySQL totals the captive-portal sessions per property, the
// one the session's router served when the session started.
const guestPropertySQL = guestSessionsInRangeSQL + `
SELECT coalesce(property, '` + noPropertyName + `'), count(DISTINCT router_serial),
       ` + guestAggregatesSQL + `
FROM s
GROUP BY property
ORDER BY property NULLS LAST`

// guestPropertyOptions are the options of guest_property_summary.
type guestPropertyOptions struct {
	routerFilter
}

// runGuestPropertySummary answers guest_property_summary: one row per
// property with the routers its sessions ran on, its guest sessions in the
// range, those active now, and the durations of the ended ones.
func runGuestPropertySummary(ctx context.Context, d *Datasource,
	r request[guestPropertyOptions]) (data.Frames, error) {
	args := []any{r.TimeRange.From, r.TimeRange.To, d.now(), r.Opts.serials()}
	cols := append([]column{{"property", "Property", ""}, {"routers", "Routers", ""}},
		guestAggregateColumns...)
	return selectTable(ctx, d, "guest_property_summary", guestPropertySQL, args, cols)
}
