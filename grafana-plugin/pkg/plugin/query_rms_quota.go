package plugin

import (
	"context"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// rmsQuotaSQL lists the RMS API requests per month against the quota, up
// to the datasource's month ($1), oldest first, so that a stat panel's
// last value is the current month.
const rmsQuotaSQL = `SELECT month, requests, quota, used_ratio
FROM rms_quota
WHERE month <= ($1::timestamptz AT TIME ZONE 'UTC')::date
ORDER BY month`

// runRMSQuota answers rms_quota: one row per month with the requests made
// to RMS, the quota in force (null: unlimited) and the share used.
func runRMSQuota(ctx context.Context, d *Datasource, _ request[noOptions]) (data.Frames, error) {
	return selectTable(ctx, d, "rms_quota", rmsQuotaSQL, []any{d.now()}, []column{
		{"month", "Month", ""},
		{"requests", "Requests", ""},
		{"quota", "Quota", ""},
		{"used_ratio", "Used", unitPercent},
	})
}
