package locks

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the lock metrics, labelled by lock name.
type metrics struct {
	wait          *prometheus.HistogramVec
	hold          *prometheus.HistogramVec
	contention    *prometheus.CounterVec
	lost          *prometheus.CounterVec
	forced        *prometheus.CounterVec
	releaseErrors *prometheus.CounterVec
}

// newMetrics builds the metrics and registers them with reg when it is
// not nil.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	label := []string{"name"}
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, label)
	}
	m := &metrics{
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "routerlogger_lock_wait_seconds",
			Help:    "Time from asking for a lock to holding it.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}, label),
		hold: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "routerlogger_lock_hold_seconds",
			Help:    "Time a lock was held, from acquisition to release.",
			Buckets: prometheus.ExponentialBuckets(0.01, 4, 10),
		}, label),
		contention: counter("routerlogger_lock_contention_total",
			"Acquisitions that found the lock held by another and had to wait."),
		lost: counter("routerlogger_lock_lost_total",
			"Locks lost while held: released by force, taken over or not renewable."),
		forced: counter("routerlogger_lock_forced_releases_total",
			"Locks released by force by an operator."),
		releaseErrors: counter("routerlogger_lock_release_errors_total",
			"Releases that failed or found the lock no longer held."),
	}
	if reg == nil {
		return m, nil
	}

	for _, c := range []prometheus.Collector{m.wait, m.hold, m.contention, m.lost, m.forced,
		m.releaseErrors} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("locks: register metrics: %w", err)
		}
	}
	return m, nil
}
