package geo

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics of the job.
type metrics struct {
	lookups   *prometheus.CounterVec
	cacheHits prometheus.Counter
	balance   prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "routerlogger_geo_lookups_total",
			Help: "Cells asked of the geolocation provider, by result " +
				"(found, not_found, key_refused, unavailable, error).",
		}, []string{"result"}),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "routerlogger_geo_cache_hits_total",
			Help: "Router cells resolved from the cell cache without asking the provider.",
		}),
		balance: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "routerlogger_geo_balance_requests",
			Help: "Requests left on the geolocation provider key, as its last answer said.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.lookups, m.cacheHits, m.balance} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("geo: register metrics: %w", err)
		}
	}
	return m, nil
}

// lookup counts one provider answer.
func (m *metrics) lookup(loc Location, err error) {
	if loc.Balance != nil {
		m.balance.Set(*loc.Balance)
	}
	result := "error"
	switch {
	case errors.Is(err, ErrKey):
		result = "key_refused"
	case errors.Is(err, ErrUnavailable):
		result = "unavailable"
	case err == nil && loc.Found:
		result = "found"
	case err == nil:
		result = "not_found"
	}
	m.lookups.WithLabelValues(result).Inc()
}
