package plugin

import (
	"context"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5"
)

// alertInboxLagSQL gives the inbox lag in minutes.
const alertInboxLagSQL = `SELECT ` + inboxLagSQL + ` FROM portal_inbox`

// runAlertInboxLag answers alert_inbox_lag: one number, the minutes since
// the oldest captive-portal event still waiting for its job arrived; 0
// when none waits.
func runAlertInboxLag(ctx context.Context, d *Datasource, _ request[noOptions]) (data.Frames, error) {
	rows, _, err := selectAll(ctx, d, alertInboxLagSQL, []any{d.now()}, pgx.RowTo[float64])
	if err != nil {
		return nil, err
	}
	return data.Frames{number("alert_inbox_lag", "inbox_lag_minutes", "Inbox lag", unitMinutes,
		rows[0], alertInboxLagSQL)}, nil
}
