package plugin

import (
	"context"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// oauthStateSQL lists each outside service's authorisation, with the
// minutes until its access token expires on the datasource's clock ($1).
const oauthStateSQL = `SELECT provider, state, expires_at,
       round((extract(epoch FROM expires_at - $1::timestamptz) / 60)::numeric, 1)::float8,
       updated_at, last_error
FROM oauth_state
ORDER BY provider`

// runOAuthState answers oauth_state: one row per outside service with its
// authorisation state (ok or needs_reauth), when its access token expires
// (a refresh token renews it), and the last error.
func runOAuthState(ctx context.Context, d *Datasource, _ request[noOptions]) (data.Frames, error) {
	return selectTable(ctx, d, "oauth_state", oauthStateSQL, []any{d.now()}, []column{
		{"provider", "Provider", ""},
		{"state", "State", ""},
		{"expires_at", "Token expires", ""},
		{"minutes_to_expiry", "Expires in", unitMinutes},
		{"updated_at", "Updated", ""},
		{"last_error", "Last error", ""},
	})
}
