package plugin

import (
	"context"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5"
)

// alertDLQDepthSQL counts the dead-letter queue.
const alertDLQDepthSQL = `SELECT count(*) FROM webhook_dlq`

// runAlertDLQDepth answers alert_dlq_depth: one number, the dead-lettered
// captive-portal events waiting for a replay.
func runAlertDLQDepth(ctx context.Context, d *Datasource, _ request[noOptions]) (data.Frames, error) {
	rows, _, err := selectAll(ctx, d, alertDLQDepthSQL, nil, pgx.RowTo[int64])
	if err != nil {
		return nil, err
	}
	return data.Frames{number("alert_dlq_depth", "dlq_depth", "Dead letters", "",
		rows[0], alertDLQDepthSQL)}, nil
}
