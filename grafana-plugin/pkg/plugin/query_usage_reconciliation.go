package plugin

import (
	"context"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// usageReconciliationSQL lists RMS's daily usage beside ours for the UTC
// days that start in the range, largest difference first.
const usageReconciliationSQL = `SELECT serial, name, day::timestamp AT TIME ZONE 'UTC',
       rms_tx_bytes, rms_rx_bytes, our_tx_bytes, our_rx_bytes, diff_bytes,
       diff_bytes::float8 / nullif(rms_tx_bytes + rms_rx_bytes, 0)
FROM usage_reconciliation
WHERE day >= ($1::timestamptz AT TIME ZONE 'UTC')::date
  AND day::timestamp AT TIME ZONE 'UTC' < $2
  AND (cardinality($3::text[]) = 0 OR serial = ANY($3))
ORDER BY abs(diff_bytes) DESC, serial, day`

// usageReconciliationOptions are the options of usage_reconciliation.
type usageReconciliationOptions struct {
	routerFilter
}

// runUsageReconciliation answers usage_reconciliation: one row per router
// and UTC day with the bytes RMS counted, the bytes RouterLogger counted,
// and RMS's total minus ours, absolute and as a share of RMS's.
func runUsageReconciliation(ctx context.Context, d *Datasource,
	r request[usageReconciliationOptions]) (data.Frames, error) {
	args := []any{r.TimeRange.From, r.TimeRange.To, r.Opts.serials()}
	return selectTable(ctx, d, "usage_reconciliation", usageReconciliationSQL, args, []column{
		{"serial", "Serial", ""},
		{"name", "Name", ""},
		{"day", "Day", ""},
		{"rms_tx_bytes", "RMS tx", unitBytes},
		{"rms_rx_bytes", "RMS rx", unitBytes},
		{"our_tx_bytes", "Our tx", unitBytes},
		{"our_rx_bytes", "Our rx", unitBytes},
		{"diff_bytes", "Difference", unitBytes},
		{"diff_ratio", "Difference share", unitPercent},
	})
}
