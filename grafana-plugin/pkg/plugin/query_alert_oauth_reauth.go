package plugin

import (
	"context"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/jackc/pgx/v5"
)

// alertOAuthReauthSQL gives 1 for each provider whose authorisation an
// operator must renew, else 0.
const alertOAuthReauthSQL = `SELECT provider, (state = 'needs_reauth')::int::bigint
FROM oauth_state
ORDER BY provider`

// runAlertOAuthReauth answers alert_oauth_reauth: a numeric long frame of
// provider and needs_reauth (1 or 0), one row per outside service, which
// alerting turns into one number per provider labelled by provider.
func runAlertOAuthReauth(ctx context.Context, d *Datasource,
	_ request[noOptions]) (data.Frames, error) {
	rows, cut, err := selectAll(ctx, d, alertOAuthReauthSQL, nil,
		func(row pgx.CollectableRow) (labelled[int64], error) {
			l := labelled[int64]{labels: make([]string, 1)}
			err := row.Scan(&l.labels[0], &l.value)
			return l, err
		})
	if err != nil {
		return nil, err
	}
	frame := longFrame("alert_oauth_reauth", alertOAuthReauthSQL,
		[]column{{"provider", "Provider", ""}}, column{"needs_reauth", "Needs re-authorisation", ""},
		rows)
	return truncated(data.Frames{frame}, cut, d.settings.MaxRows), nil
}
