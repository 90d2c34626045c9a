package plugin

import (
	"context"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// dlqDepthSQL counts the dead-letter queue and finds its oldest failure.
const dlqDepthSQL = `SELECT count(*), min(failed_at)
FROM webhook_dlq`

// runDLQDepth answers dlq_depth: one row, the number of dead-lettered
// captive-portal events waiting for a replay and when the oldest failed.
func runDLQDepth(ctx context.Context, d *Datasource, _ request[noOptions]) (data.Frames, error) {
	return selectTable(ctx, d, "dlq_depth", dlqDepthSQL, nil, []column{
		{"depth", "Dead letters", ""},
		{"oldest_failed_at", "Oldest failure", ""},
	})
}
