package syncrun

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics of the runner.
type metrics struct {
	runs        *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	lastSuccess *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "routerlogger_sync_runs_total",
			Help: "Sync runs by job and status (ok, partial, failed, skipped).",
		}, []string{"job", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "routerlogger_sync_run_duration_seconds",
			Help:    "Time of a sync run that started, by job.",
			Buckets: []float64{0.1, 0.5, 1, 5, 15, 30, 60, 120, 300},
		}, []string{"job"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "routerlogger_sync_last_success_timestamp_seconds",
			Help: "Unix time of the last sync run of a job that ended ok.",
		}, []string{"job"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.runs, m.duration, m.lastSuccess} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("sync: register metrics: %w", err)
		}
	}
	return m, nil
}

// observe counts a finished run.
func (m *metrics) observe(job string, st Status, d time.Duration) {
	m.runs.WithLabelValues(job, string(st)).Inc()
	m.duration.WithLabelValues(job).Observe(d.Seconds())
	if st == StatusOK {
		m.lastSuccess.WithLabelValues(job).SetToCurrentTime()
	}
}
