package plugin

import (
	"context"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// dlqEventsSQL lists the dead-letter queue, latest failure first. The
// queue is a current state: the time range does not apply.
const dlqEventsSQL = `SELECT event_id, type, session_id, event_at, job_id, attempts, last_error,
       failed_at
FROM webhook_dlq
ORDER BY failed_at DESC, event_id DESC`

// runDLQEvents answers dlq_events: a table of the captive-portal events
// whose job failed on every attempt and that were not replayed since.
func runDLQEvents(ctx context.Context, d *Datasource, _ request[noOptions]) (data.Frames, error) {
	return selectTable(ctx, d, "dlq_events", dlqEventsSQL, nil, []column{
		{"event_id", "Event", ""},
		{"type", "Type", ""},
		{"session_id", "Session", ""},
		{"event_at", "Event time", ""},
		{"job_id", "Job", ""},
		{"attempts", "Attempts", ""},
		{"last_error", "Last error", ""},
		{"failed_at", "Failed", ""},
	})
}
