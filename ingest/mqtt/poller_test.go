package mqtt_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/routerlogger/routerlogger/ingest/mqtt"
	"github.com/routerlogger/routerlogger/ingest/mqtt/mqtttest"
	"github.com/routerlogger/routerlogger/ingest/writer"
)

// exchange is one line of mqtt-publisher-exchange.jsonl.
type exchange struct {
	Dir     string `json:"dir"`
	Topic   string `json:"topic"`
	Payload string `json:"payload"`
}

// fakeRouter answers get/<serial>/command as the fixture dialogue does.
func fakeRouter(t *testing.T, broker string) {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtures, "mqtt-publisher-exchange.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	answers := map[string]exchange{} // "<command topic> <param>" -> answer
	var last exchange
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e exchange
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		if e.Dir == "router->client" {
			answers[last.Topic+" "+last.Payload] = e
		}
		last = e
	}

	o := paho.NewClientOptions().AddBroker(broker).SetClientID(mqtttest.Unique(t, "router"))
	router := paho.NewClient(o)
	if tok := router.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("fake router connect: %v", tok.Error())
	}
	t.Cleanup(func() { router.Disconnect(100) })
	tok := router.Subscribe("get/+/command", 0, func(c paho.Client, m paho.Message) {
		if a, ok := answers[m.Topic()+" "+string(m.Payload())]; ok {
			c.Publish(a.Topic, 1, false, a.Payload)
		}
	})
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("fake router subscribe: %v", tok.Error())
	}
}

// TestPoller_MonitoringViaMQTT polls a router that answers as the fixture
// dialogue does and finds its answers stored as a reading without counters.
func TestPoller_MonitoringViaMQTT(t *testing.T) {
	broker := mqtttest.Broker(t)
	pool := newDatabase(t)
	w := startWriter(t, pool, writer.Config{})
	fakeRouter(t, broker.URL)
	serials := func(context.Context) ([]string, error) { return []string{"6000000002"}, nil }
	startConsumer(t, w, mqtt.Config{Broker: broker.URL, ClientID: mqtttest.Unique(t, "consumer"),
		Poll: &mqtt.PollConfig{Interval: 200 * time.Millisecond, Serials: serials}})

	type latest struct {
		name, operator, network, wan string
		uptime                       int64
		rssi                         float64
		tx                           *int64
	}
	var got latest
	eventually(t, 20*time.Second, "poll answers stored", func() (bool, string) {
		q := `SELECT coalesce(name, ''), coalesce(operator, ''), coalesce(network_type, ''),
			coalesce(host(wan_ip), ''), coalesce(uptime_s, 0), coalesce(rssi, 0), tx_counter
			FROM router_latest WHERE serial = '6000000002'`
		err := pool.QueryRow(context.Background(), q).Scan(&got.name, &got.operator,
			&got.network, &got.wan, &got.uptime, &got.rssi, &got.tx)
		return err == nil && got.uptime != 0, ""
	})
	want := latest{name: "RL-TEST-002", operator: "Vodafone UK", network: "LTE",
		wan: "100.64.56.78", uptime: 431700, rssi: -77}
	if got.tx != nil || got.name != want.name || got.operator != want.operator ||
		got.network != want.network || !strings.HasPrefix(got.wan, want.wan) ||
		got.uptime != want.uptime || got.rssi != want.rssi {
		t.Fatalf("router_latest %+v, want %+v and no counters", got, want)
	}
	if n := count(pool, "SELECT count(*) FROM samples WHERE source = 'mqtt'"); n < 1 {
		t.Fatalf("%d mqtt samples, want at least one poll reading", n)
	}
}
