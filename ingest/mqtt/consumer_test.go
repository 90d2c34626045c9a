package mqtt_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/ingest/mqtt"
	"github.com/routerlogger/routerlogger/ingest/mqtt/mqtttest"
	"github.com/routerlogger/routerlogger/ingest/writer"
)

// TestConsumer_FixtureDay publishes the fixture day through the system
// broker and checks the totals; publishing it again changes nothing.
func TestConsumer_FixtureDay(t *testing.T) {
	broker := mqtttest.SystemBroker(t)
	pool := newDatabase(t)
	w := startWriter(t, pool, writer.Config{})
	prefix := mqtttest.Unique(t, "rl")
	c := startConsumer(t, w, mqtt.Config{Broker: broker, TopicPrefix: prefix,
		ClientID: mqtttest.Unique(t, "consumer"), ShareGroup: "g"})
	pub := mqtttest.NewPublisher(t, broker, mqtttest.Unique(t, "pub"), 0)
	msgs := fixtureMessages(t, prefix)

	for round := 1; round <= 2; round++ {
		t.Run("round", func(t *testing.T) {
			if err := pub.Publish(msgs, 30*time.Second); err != nil {
				t.Fatal(err)
			}
			eventually(t, 60*time.Second, "every message acknowledged", func() (bool, string) {
				n := c.metric(t, mqtt.OutcomeStored)
				return n == float64(round*len(msgs)), ""
			})
			if n := count(pool, "SELECT count(*) FROM samples"); n != len(msgs) {
				t.Fatalf("round %d: %d samples, want %d", round, n, len(msgs))
			}
			if n := count(pool, "SELECT count(*) FROM samples WHERE source = 'mqtt'"); n != len(msgs) {
				t.Fatalf("round %d: %d samples from mqtt, want %d", round, n, len(msgs))
			}
			checkFixtureTotals(t, pool)
		})
	}
}

// TestConsumer_SharedSubscription runs two consumers in one share group:
// both take part of the load, and the totals are those of the fixture.
func TestConsumer_SharedSubscription(t *testing.T) {
	broker := mqtttest.SystemBroker(t)
	pool := newDatabase(t)
	w := startWriter(t, pool, writer.Config{})
	prefix := mqtttest.Unique(t, "rl")
	group := mqtttest.Unique(t, "group")

	var parts [2]*countingWriter
	for i := range parts {
		parts[i] = &countingWriter{w: w}
		startConsumer(t, parts[i], mqtt.Config{Broker: broker, TopicPrefix: prefix,
			ClientID: mqtttest.Unique(t, "consumer"), ShareGroup: group})
	}
	msgs := fixtureMessages(t, prefix)
	pub := mqtttest.NewPublisher(t, broker, mqtttest.Unique(t, "pub"), 0)
	if err := pub.Publish(msgs, 30*time.Second); err != nil {
		t.Fatal(err)
	}

	waitSamples(t, pool, len(msgs), 60*time.Second)
	a, b := parts[0].readings.Load(), parts[1].readings.Load()
	if a == 0 || b == 0 || a+b != int64(len(msgs)) {
		t.Fatalf("consumers wrote %d and %d readings; want both > 0, %d in all", a, b, len(msgs))
	}
	checkFixtureTotals(t, pool)
	t.Logf("split %d / %d", a, b)
}

// TestConsumer_PoisonMessage sends unusable payloads between good ones:
// each is recorded as a reject and acknowledged, and the good ones flow.
func TestConsumer_PoisonMessage(t *testing.T) {
	broker := mqtttest.SystemBroker(t)
	pool := newDatabase(t)
	w := startWriter(t, pool, writer.Config{})
	prefix := mqtttest.Unique(t, "rl")
	c := startConsumer(t, w, mqtt.Config{Broker: broker, TopicPrefix: prefix,
		ClientID: mqtttest.Unique(t, "consumer")})
	pub := mqtttest.NewPublisher(t, broker, mqtttest.Unique(t, "pub"), 0)

	good := func(serial, at string) string {
		return `{"device_id":"` + serial + `","timestamp":"` + at + `","counters":{"total_tx_bytes":1}}`
	}
	topic := func(serial string) string { return mqtt.TelemetryTopic(prefix, serial) }
	msgs := []mqtttest.Message{
		{Topic: topic("P1"), Payload: []byte(good("P1", "2025-03-14T10:00:00Z"))},
		{Topic: topic("P1"), Payload: []byte(`{"device_id": "P1", "counters": `)},
		{Topic: topic("P1"), Payload: []byte(good("P2", "2025-03-14T10:01:00Z"))},
		{Topic: topic("P1"), Payload: []byte(`{"device_id":"P1","counters":{"total_tx_bytes":"lots"}}`)},
		{Topic: topic("P3"), Payload: []byte(`{"timestamp":"2025-03-14T10:02:00Z"}`)},
		{Topic: topic("P1"), Payload: []byte(good("P1", "2025-03-14T10:03:00Z"))},
	}
	if err := pub.Publish(msgs, 30*time.Second); err != nil {
		t.Fatal(err)
	}

	eventually(t, 30*time.Second, "six messages acknowledged", func() (bool, string) {
		s, r := c.metric(t, mqtt.OutcomeStored), c.metric(t, mqtt.OutcomeRejected)
		return s == 3 && r == 3, ""
	})
	if n := count(pool, "SELECT count(*) FROM samples"); n != 3 {
		t.Fatalf("%d samples, want 3 (two of P1, one of P3 filled from its topic)", n)
	}
	if n := count(pool, "SELECT count(*) FROM samples s JOIN routers r ON r.id = s.router_id "+
		"WHERE r.serial = 'P3'"); n != 1 {
		t.Fatalf("%d samples for P3, want 1: a reading without device_id takes the topic's serial", n)
	}

	rows, err := pool.Query(context.Background(),
		`SELECT source, router_serial, coalesce(field, ''), reason, payload FROM rejects ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var src, serial, field, reason, payload string
		if err := rows.Scan(&src, &serial, &field, &reason, &payload); err != nil {
			t.Fatal(err)
		}
		if src != "mqtt" || serial != "P1" || payload == "" {
			t.Errorf("reject %s/%s/%s %q: want source mqtt, serial P1 and the payload", src, serial, field, reason)
		}
		got = append(got, field+": "+reason)
	}
	want := []string{": reading: malformed body", "device_id: device_id \"P2\" does not match",
		"counters.total_tx_bytes: want a non-negative integer"}
	if len(got) != len(want) {
		t.Fatalf("rejects %q, want %d", got, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("reject %d: %q, want prefix %q", i, got[i], want[i])
		}
	}
}
