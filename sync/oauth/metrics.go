package oauth

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
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
	if reg == nil {
		return m, nil
	}

	// One counter serves every provider's flow on a registry.
	err := reg.Register(m.refreshes)
	if are := (prometheus.AlreadyRegisteredError{}); errors.As(err, &are) {
		if c, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
			m.refreshes = c
			return m, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("oauth: register metrics: %w", err)
	}
	return m, nil
}
