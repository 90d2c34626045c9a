package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/ingest/mqtt"
	"github.com/routerlogger/routerlogger/ingest/mqtt/mqtttest"
	"github.com/routerlogger/routerlogger/internal/pgtest"
)

// fixtureMessages returns the fixture day as telemetry messages under
// prefix, one per line.
func fixtureMessages(t *testing.T, prefix string) []mqtttest.Message {
	t.Helper()
	var out []mqtttest.Message
	for _, l := range fixtureLines(t) {
		var head struct {
			DeviceID string `json:"device_id"`
		}
		if err := json.Unmarshal(l, &head); err != nil {
			t.Fatal(err)
		}
		out = append(out, mqtttest.Message{Topic: mqtt.TelemetryTopic(prefix, head.DeviceID), Payload: l})
	}
	return out
}

// metricValue returns the value of the series named exactly series (name
// and labels as exposed) on /metrics, or -1 when absent.
func metricValue(t *testing.T, base, series string) float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return f
		}
	}
	return -1
}

// waitFor polls cond every 20 ms until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var detail string
	for time.Now().Before(deadline) {
		var ok bool
		if ok, detail = cond(); ok {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s (%s)", what, timeout, detail)
}

func countRows(pool *pgxpool.Pool, q string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var n int
	if err := pool.QueryRow(ctx, q).Scan(&n); err != nil {
		return -1
	}
	return n
}

// TestServe_MQTT runs serve with the MQTT intake on the system broker,
// publishes the fixture day and finds its totals, with the intake's
// metrics on /metrics.
func TestServe_MQTT(t *testing.T) {
	broker := mqtttest.SystemBroker(t)
	prefix, clientID := mqtttest.Unique(t, "rl"), mqtttest.Unique(t, "serve")
	// Registered first so that it runs after the server stopped.
	t.Cleanup(func() { mqtttest.ForgetSession(t, broker, clientID) })
	ts := startTestServer(t, pgtest.NewDatabase(t), map[string]string{
		"ROUTERLOGGER_MQTT_URL":          broker,
		"ROUTERLOGGER_MQTT_TOPIC_PREFIX": prefix,
		"ROUTERLOGGER_MQTT_CLIENT_ID":    clientID,
		"ROUTERLOGGER_MQTT_SHARE_GROUP":  "none",
	})
	waitFor(t, 20*time.Second, "mqtt connected", func() (bool, string) {
		return metricValue(t, ts.url, "routerlogger_mqtt_connected") == 1, ""
	})

	msgs := fixtureMessages(t, prefix)
	pub := mqtttest.NewPublisher(t, broker, mqtttest.Unique(t, "pub"), 0)
	if err := pub.Publish(msgs, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	stored := `routerlogger_mqtt_messages_total{outcome="stored"}`
	waitFor(t, 60*time.Second, "fixture stored", func() (bool, string) {
		v := metricValue(t, ts.url, stored)
		return v == float64(len(msgs)), fmt.Sprintf("%s %v", stored, v)
	})
	checkFixtureTotals(t, ts.pool)
	if n := countRows(ts.pool, "SELECT count(*) FROM samples WHERE source = 'mqtt'"); n != len(msgs) {
		t.Fatalf("%d mqtt samples, want %d", n, len(msgs))
	}
	if v := metricValue(t, ts.url, `routerlogger_samples_total{outcome="accepted",source="mqtt"}`); v != 840 {
		t.Errorf("writer counted %v accepted mqtt samples, want 840", v)
	}
}

func TestRegisterMQTT(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		err   string // substring of the config error; "" means valid
		check func(t *testing.T, c *mqttConfig)
	}{
		{"off by default", nil, "", func(t *testing.T, c *mqttConfig) {
			if *c.url != "" || !strings.HasPrefix(*c.clientID, "routerlogger-") || *c.shareGroup != "routerlogger" {
				t.Errorf("defaults: url %q client id %q group %q", *c.url, *c.clientID, *c.shareGroup)
			}
		}},
		{"no sharing", map[string]string{"ROUTERLOGGER_MQTT_URL": "tcp://127.0.0.1:1883",
			"ROUTERLOGGER_MQTT_SHARE_GROUP": "none"}, "", func(t *testing.T, c *mqttConfig) {
			if g := c.consumerConfig(nil, nil, nil, nil).ShareGroup; g != "" {
				t.Errorf("share group %q, want none", g)
			}
		}},
		{"bad scheme", map[string]string{"ROUTERLOGGER_MQTT_URL": "http://127.0.0.1:1883"},
			"ROUTERLOGGER_MQTT_URL", nil},
		{"batch out of range", map[string]string{"ROUTERLOGGER_MQTT_BATCH": "0"},
			"ROUTERLOGGER_MQTT_BATCH", nil},
		{"password never shown", map[string]string{"ROUTERLOGGER_MQTT_PASSWORD": "hunter2",
			"ROUTERLOGGER_MQTT_LINGER": "5"}, "ROUTERLOGGER_MQTT_LINGER", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			e := &env{getenv: func(k string) string { return tt.env[k] }, stdout: io.Discard, stderr: &stderr}
			f := newFlags(e, "serve", "serve")
			cfg := registerServe(f)
			err := f.parse(nil)
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, cfg.mqtt)
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) || strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error %v, want one naming %s", err, tt.err)
			}
		})
	}
}
