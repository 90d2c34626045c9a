package oauth

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/routerlogger/routerlogger/internal/promreg"
)

// metrics are the OAuth metrics, labelled by provider.
type metrics struct {
	refreshes *prometheus.CounterVec
}

// newMetrics builds the metrics and registers them with reg when it is
// not nil.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "routerlogger_oauth_refreshes_total",
			Help: "Token refreshes by outcome: refreshed, sibling (another caller or" +
				" instance had refreshed), invalid_grant (needs re-authorisation), error.",
		}, []string{"provider", "outcome"}),
	}
	// One counter serves every provider's flow on a registry.
	refreshes, err := promreg.Shared(reg, m.refreshes)
	if err != nil {
		return nil, fmt.Errorf("oauth: %w", err)
	}
	m.refreshes = refreshes
	return m, nil
}
