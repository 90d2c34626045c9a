package mqtt_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/ingest/mqtt"
	"github.com/routerlogger/routerlogger/ingest/mqtt/mqtttest"
	"github.com/routerlogger/routerlogger/ingest/writer"
	"github.com/routerlogger/routerlogger/internal/pgtest"
	"github.com/routerlogger/routerlogger/internal/testkit"
)

// publishInBackground publishes msgs and returns a channel that yields the
// publisher's result.
func publishInBackground(t *testing.T, pub *mqtttest.Publisher, msgs []mqtttest.Message) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- pub.Publish(msgs, 90*time.Second) }()
	return done
}

// TestConsumer_DatabaseOutage stops the database while messages flow and
// starts it again: the consumer pauses, acknowledges nothing it did not
// store, and in the end every published message is stored exactly once.
// The outage outlasts the keep-alive, so paho (which reads nothing while
// the handler blocks) reconnects during it.
func TestConsumer_DatabaseOutage(t *testing.T) {
	cluster := pgtest.StartCluster(t, pgtest.ClusterOptions{})
	pool := testkit.OpenMigrated(t, cluster.DSN)
	w := startWriter(t, pool, writer.Config{Timeout: 2 * time.Second})
	broker := mqtttest.Broker(t)
	load := series{prefix: "OUT", routers: 20, perRouter: 150}
	c := startConsumer(t, w, mqtt.Config{Broker: broker.URL, TopicPrefix: "load",
		ClientID: "consumer-outage", Batch: 100, KeepAlive: time.Second})
	pub := mqtttest.NewPublisher(t, broker.URL, "pub-outage", 200)

	done := publishInBackground(t, pub, load.messages())
	eventually(t, 30*time.Second, "some readings stored", func() (bool, string) {
		n := count(pool, "SELECT count(*) FROM samples")
		return n >= 300, fmt.Sprintf("%d stored", n)
	})

	cluster.Stop(t)
	eventually(t, 30*time.Second, "consumer paused and reconnected", func() (bool, string) {
		r, u := c.metric(t, "retries"), c.metric(t, mqtt.OutcomeUnacked)
		return r >= 3 && u > 0, fmt.Sprintf("%.0f retries, %.0f let go unacknowledged", r, u)
	})
	stored := c.metric(t, mqtt.OutcomeStored)
	cluster.Start(t)

	if err := <-done; err != nil {
		t.Fatalf("publisher: %v", err)
	}
	waitSamples(t, pool, load.routers*load.perRouter, 60*time.Second)
	load.check(t, pool)
	t.Logf("%.0f messages acknowledged before the outage, %.0f retries, %.0f unacknowledged",
		stored, c.metric(t, "retries"), c.metric(t, mqtt.OutcomeUnacked))
}

// TestConsumer_BrokerRestart restarts the broker mid-load: the consumer
// and the publisher reconnect by themselves, and nothing is lost or
// stored twice.
func TestConsumer_BrokerRestart(t *testing.T) {
	pool := newDatabase(t)
	w := startWriter(t, pool, writer.Config{})
	broker := mqtttest.Broker(t)
	load := series{prefix: "BRK", routers: 20, perRouter: 150}
	c := startConsumer(t, w, mqtt.Config{Broker: broker.URL, TopicPrefix: "load",
		ClientID: "consumer-restart", Batch: 100})
	pub := mqtttest.NewPublisher(t, broker.URL, "pub-restart", 200)

	done := publishInBackground(t, pub, load.messages())
	eventually(t, 30*time.Second, "some readings stored", func() (bool, string) {
		n := count(pool, "SELECT count(*) FROM samples")
		return n >= 300, fmt.Sprintf("%d stored", n)
	})

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := broker.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("publisher: %v", err)
	}
	waitSamples(t, pool, load.routers*load.perRouter, 60*time.Second)
	load.check(t, pool)
	if !c.Connected() || c.metric(t, "connected") != 1 {
		t.Fatal("consumer not connected after the restart")
	}
	t.Logf("%.0f messages stored, %.0f unacknowledged and delivered again",
		c.metric(t, mqtt.OutcomeStored), c.metric(t, mqtt.OutcomeUnacked))
}
