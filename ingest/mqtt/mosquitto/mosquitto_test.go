package mosquitto_test

import (
	"bufio"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/routerlogger/routerlogger/ingest/mqtt"
	"github.com/routerlogger/routerlogger/ingest/mqtt/mosquitto"
	"github.com/routerlogger/routerlogger/ingest/mqtt/mqtttest"
)

// directives parses a mosquitto.conf into its last value per directive.
func directives(conf string) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(conf))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		out[f[0]] = strings.Join(f[1:], " ")
	}
	return out
}

// TestDeployConf checks that deploy/mosquitto.conf is sized for
// acknowledge-after-commit with the consumer's defaults.
func TestDeployConf(t *testing.T) {
	d := directives(mqtttest.DeployConf(t))
	atLeast := func(name string, min int) {
		t.Helper()
		n, err := strconv.Atoi(d[name])
		if err != nil || n < min {
			t.Errorf("%s = %q, want at least %d", name, d[name], min)
		}
	}
	atLeast("max_inflight_messages", (mqtt.DefaultInFlight+2)*mqtt.DefaultBatch)
	atLeast("max_queued_messages", 1_000_000)
	if d["persistence"] != "true" || d["persistence_location"] == "" {
		t.Errorf("persistence %q at %q, want true with a location", d["persistence"], d["persistence_location"])
	}
	if d["max_queued_bytes"] != "0" {
		t.Errorf("max_queued_bytes %q, want 0 (the message count bounds the queue)", d["max_queued_bytes"])
	}
}

func TestDerive(t *testing.T) {
	base := mqtttest.DeployConf(t)
	got := directives(mosquitto.Derive(base, 18830, "/tmp/x"))

	want := directives(base)
	want["listener"] = "18830 127.0.0.1"
	want["persistence_location"] = "/tmp/x/"
	want["log_dest"] = "stderr"
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if n := strings.Count(mosquitto.Derive(base, 1, "/d"), "\nlistener "); n != 1 {
		t.Errorf("%d listeners, want 1", n)
	}
}

// TestBroker_Restart queues a QoS 1 message for an offline persistent
// session, restarts the broker and receives the message after it.
func TestBroker_Restart(t *testing.T) {
	b := mqtttest.Broker(t)
	topic := "restart/telemetry"
	got := make(chan string, 1)
	connect := func(id string, clean bool) paho.Client {
		o := paho.NewClientOptions().AddBroker(b.URL).SetClientID(id).SetCleanSession(clean).
			SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) })
		c := paho.NewClient(o)
		if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatalf("connect %s: %v", id, tok.Error())
		}
		return c
	}

	sub := connect("sub", false)
	if tok := sub.Subscribe(topic, 1, nil); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	sub.Disconnect(100)
	pub := connect("pub", true)
	if tok := pub.Publish(topic, 1, false, "kept"); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	pub.Disconnect(100)

	port := b.Port
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	if b.Port != port {
		t.Fatalf("port %d after restart, want %d", b.Port, port)
	}

	sub = connect("sub", false)
	defer sub.Disconnect(100)
	select {
	case m := <-got:
		if m != "kept" {
			t.Fatalf("got %q, want the queued message", m)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("queued message lost in the restart\n%s", b.LogTail())
	}
}
