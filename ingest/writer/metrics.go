package writer

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/routerlogger/routerlogger/ingest/reading"
)

type metrics struct {
	samples       *prometheus.CounterVec
	batchReadings prometheus.Histogram
	commitSeconds prometheus.Histogram
	queueDepth    prometheus.Gauge
	queueCap      prometheus.Gauge
	queueFull     prometheus.Counter
	failures      prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		samples: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "routerlogger_samples_total",
			Help: "Readings committed by the writer, by source and outcome (accepted, duplicate, rejected).",
		}, []string{"source", "outcome"}),
		batchReadings: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "routerlogger_writer_batch_readings",
			Help:    "Readings per committed writer transaction.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "routerlogger_writer_commit_seconds",
			Help:    "Duration of one writer transaction, from begin to commit.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "routerlogger_writer_queue_batches",
			Help: "Batches waiting for a writer worker.",
		}),
		queueCap: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "routerlogger_writer_queue_capacity_batches",
			Help: "Batches the writer queue holds before front doors answer 503.",
		}),
		queueFull: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "routerlogger_writer_queue_full_total",
			Help: "Batches refused because the writer queue was full.",
		}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "routerlogger_writer_failed_transactions_total",
			Help: "Writer transactions that did not commit.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.samples, m.batchReadings, m.commitSeconds, m.queueDepth, m.queueCap,
			m.queueFull, m.failures)
	}
	return m
}

func (m *metrics) count(src reading.Source, r Result) {
	s := string(src)
	m.samples.WithLabelValues(s, "accepted").Add(float64(r.Accepted))
	m.samples.WithLabelValues(s, "duplicate").Add(float64(r.Duplicates))
	m.samples.WithLabelValues(s, "rejected").Add(float64(len(r.Rejected)))
}
