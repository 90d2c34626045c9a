package plugin

import (
	"context"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5"
)

// alertRMSQuotaSQL gives the share of this month's RMS request quota used,
// the month taken from the datasource's clock ($1) in UTC.
const alertRMSQuotaSQL = `SELECT used_ratio
FROM rms_quota
WHERE month = date_trunc('month', $1::timestamptz AT TIME ZONE 'UTC')::date`

// runAlertRMSQuota answers alert_rms_quota: one number, the share of this
// month's RMS API quota used; null when no request was counted this month
// or no quota is set, which alerting reads as no data.
func runAlertRMSQuota(ctx context.Context, d *Datasource, _ request[noOptions]) (data.Frames, error) {
	rows, _, err := selectAll(ctx, d, alertRMSQuotaSQL, []any{d.now()}, pgx.RowTo[*float64])
	if err != nil {
		return nil, err
	}
	var used *float64
	if len(rows) > 0 {
		used = rows[0]
	}
	return data.Frames{number("alert_rms_quota", "used_ratio", "RMS quota used", unitPercent,
		used, alertRMSQuotaSQL)}, nil
}
