package plugin

import (
	"context"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// inboxLagSQL is the age in minutes of the oldest captive-portal event
// waiting for its job, on the datasource's clock ($1); 0 when none waits.
const inboxLagSQL = `coalesce(greatest(0,
           round((extract(epoch FROM $1::timestamptz - oldest_received_at) / 60)::numeric, 2)
       ), 0)::float8`

// portalInboxSQL reads the inbox backlog.
const portalInboxSQL = `SELECT pending, oldest_received_at, ` + inboxLagSQL + `
FROM portal_inbox`

// runPortalInbox answers portal_inbox: one row, how many captive-portal
// events wait for their job, when the oldest arrived and its lag.
func runPortalInbox(ctx context.Context, d *Datasource, _ request[noOptions]) (data.Frames, error) {
	return selectTable(ctx, d, "portal_inbox", portalInboxSQL, []any{d.now()}, []column{
		{"pending", "Waiting events", ""},
		{"oldest_received_at", "Oldest received", ""},
		{"lag_minutes", "Inbox lag", unitMinutes},
	})
}
