package mqtt

import "github.com/prometheus/client_golang/prometheus"

// Outcomes of a message, the label of routerlogger_mqtt_messages_total.
const (
	// OutcomeStored: at least one reading of the message was committed
	// (new or duplicate) and the message acknowledged. If its connection
	// dropped meanwhile the acknowledgement is lost with it, and the broker
	// sends the message again: a duplicate.
	OutcomeStored = "stored"
	// OutcomeRejected: nothing of the message was usable; its rejects were
	// committed and the message acknowledged.
	OutcomeRejected = "rejected"
	// OutcomeIgnored: the topic is not one the consumer stores; the
	// message was acknowledged at once.
	OutcomeIgnored = "ignored"
	// OutcomeUnacked: the message was let go without acknowledgement (the
	// consumer stopped or the connection dropped); the broker sends it
	// again.
	OutcomeUnacked = "unacked"
)

type metrics struct {
	connected prometheus.Gauge
	messages  *prometheus.CounterVec
	retries   prometheus.Counter
	batchSize prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "routerlogger_mqtt_connected",
			Help: "1 while the MQTT consumer is connected to the broker, else 0.",
		}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "routerlogger_mqtt_messages_total",
			Help: "MQTT messages handled, by outcome (stored, rejected, ignored, unacked).",
		}, []string{"outcome"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "routerlogger_mqtt_write_retries_total",
			Help: "Writer batches the MQTT consumer retried after the writer refused them.",
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "routerlogger_mqtt_batch_messages",
			Help:    "Messages per batch the MQTT consumer handed to the writer.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8),
		}),
	}
	for _, o := range []string{OutcomeStored, OutcomeRejected, OutcomeIgnored, OutcomeUnacked} {
		m.messages.WithLabelValues(o)
	}
	if reg != nil {
		reg.MustRegister(m.connected, m.messages, m.retries, m.batchSize)
	}
	return m
}
