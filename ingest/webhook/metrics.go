package webhook

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of routerlogger_webhook_attempts_total.
const (
	OutcomeOK         = "ok"          // the event was applied
	OutcomeRetry      = "retry"       // failed; River tries again
	OutcomeDeadLetter = "dead_letter" // failed its last attempt
	OutcomeCancel     = "cancel"      // cancelled: the event is gone
)

// Metrics are the job side's metrics. A nil *Metrics records nothing.
type Metrics struct {
	processing prometheus.Histogram
	attempts   *prometheus.CounterVec
}

// NewMetrics registers routerlogger_webhook_processing_seconds and
// routerlogger_webhook_attempts_total on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		processing: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "routerlogger_webhook_processing_seconds",
			Help: "Time a portal event job takes to apply its event, whatever the outcome.",
			// 1 ms to about 16 s, so that histogram_quantile shows p50, p95
			// and p99 of fast and of lock-bound jobs alike.
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "routerlogger_webhook_attempts_total",
			Help: "Portal event job attempts by outcome (ok, retry, dead_letter, cancel).",
		}, []string{"outcome"}),
	}
	for _, o := range []string{OutcomeOK, OutcomeRetry, OutcomeDeadLetter, OutcomeCancel} {
		m.attempts.WithLabelValues(o)
	}
	reg.MustRegister(m.processing, m.attempts)
	return m
}

// observe records one attempt.
func (m *Metrics) observe(took time.Duration, outcome string) {
	if m == nil {
		return
	}
	m.processing.Observe(took.Seconds())
	m.attempts.WithLabelValues(outcome).Inc()
}

// inboxLagDesc describes routerlogger_webhook_inbox_lag_seconds.
var inboxLagDesc = prometheus.NewDesc("routerlogger_webhook_inbox_lag_seconds",
	"Age of the oldest portal event not yet processed and not waiting in the dead-letter queue; "+
		"0 when there is none.", nil, nil)

// InboxLagCollector returns a collector of
// routerlogger_webhook_inbox_lag_seconds that reads the inbox at each
// scrape. Dead-lettered events that wait for an operator are left out,
// or the gauge would only ever grow; replayed ones count again. A failed
// read is logged and the metric left out of that scrape.
func InboxLagCollector(db DB, log *slog.Logger) prometheus.Collector {
	if log == nil {
		log = slog.Default()
	}
	return lagCollector{db, log}
}

type lagCollector struct {
	db  DB
	log *slog.Logger
}

// Describe sends the metric's description.
func (c lagCollector) Describe(ch chan<- *prometheus.Desc) { ch <- inboxLagDesc }

// Collect reads the oldest unprocessed event.
func (c lagCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	const q = `SELECT coalesce(extract(epoch FROM now() - min(e.received_at)), 0)::float8
		FROM portal_events e
		WHERE e.processed_at IS NULL AND NOT EXISTS (
			SELECT 1 FROM webhook_dead_letters d
			WHERE d.event_id = e.id AND d.replayed_at IS NULL)`
	var lag float64
	if err := c.db.QueryRow(ctx, q).Scan(&lag); err != nil {
		c.log.Warn("webhook inbox lag not collected", "error", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(inboxLagDesc, prometheus.GaugeValue, max(lag, 0))
}
