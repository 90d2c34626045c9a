package mqtt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/writer"
)

// fakeMessage is a paho.Message that records its acknowledgement.
type fakeMessage struct {
	topic   string
	payload []byte
	acks    *atomic.Int32
	order   *[]string
	mu      *sync.Mutex
}

func (m *fakeMessage) Duplicate() bool   { return false }
func (m *fakeMessage) Qos() byte         { return 1 }
func (m *fakeMessage) Retained() bool    { return false }
func (m *fakeMessage) Topic() string     { return m.topic }
func (m *fakeMessage) MessageID() uint16 { return 1 }
func (m *fakeMessage) Payload() []byte   { return m.payload }
func (m *fakeMessage) Ack() {
	m.acks.Add(1)
	if m.order != nil {
		m.mu.Lock()
		*m.order = append(*m.order, string(m.payload))
		m.mu.Unlock()
	}
}

// scriptWriter answers Write with the scripted errors, then nil, each
// answer only once release allows it.
type scriptWriter struct {
	errs    []error
	release chan struct{}
	calls   atomic.Int32
	batches chan writer.Batch
}

func (w *scriptWriter) Write(ctx context.Context, b writer.Batch) (writer.Result, error) {
	n := int(w.calls.Add(1)) - 1
	if w.batches != nil {
		w.batches <- b
	}
	if w.release != nil {
		select {
		case <-w.release:
		case <-ctx.Done():
			return writer.Result{}, ctx.Err()
		}
	}
	if n < len(w.errs) {
		return writer.Result{}, w.errs[n]
	}
	return writer.Result{Accepted: len(b.Readings)}, nil
}

// recordSleep returns a Sleep that records the delays and does not wait.
func recordSleep(delays *[]time.Duration, mu *sync.Mutex) func(context.Context, time.Duration) error {
	return func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		*delays = append(*delays, d)
		mu.Unlock()
		return ctx.Err()
	}
}

func newTestConsumer(t *testing.T, w Writer, cfg Config) *Consumer {
	t.Helper()
	cfg.Broker = "tcp://127.0.0.1:1"
	cfg.ClientID = "unit"
	cfg.Parser = &reading.Parser{Now: func() time.Time { return testNow }}
	c, err := New(w, cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.runCtx, c.abort = context.WithCancel(context.Background())
	t.Cleanup(c.abort)
	return c
}

var testNow = time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)

func telemetry(serial, payload string, acks *atomic.Int32) inbound {
	return inbound{msg: &fakeMessage{topic: TelemetryTopic("rl", serial), payload: []byte(payload),
		acks: acks}, serial: serial}
}

const goodReading = `{"device_id":"S1","timestamp":"2025-03-14T10:00:00Z","counters":{"total_tx_bytes":5}}`

func TestConsumer_flush(t *testing.T) {
	t.Run("acknowledges only after the writer committed, retrying refusals with back-off", func(t *testing.T) {
		var delays []time.Duration
		var mu sync.Mutex
		w := &scriptWriter{
			errs:    []error{fmt.Errorf("%w: down", writer.ErrUnavailable), writer.ErrQueueFull},
			release: make(chan struct{}),
		}
		c := newTestConsumer(t, w, Config{RetryMin: 10 * time.Millisecond,
			Sleep: recordSleep(&delays, &mu)})

		var acks atomic.Int32
		batch := []inbound{telemetry("S1", goodReading, &acks), telemetry("S1", goodReading, &acks)}
		done := make(chan struct{})
		go func() {
			c.flush(batch, closed())
			close(done)
		}()

		for attempt := 1; attempt <= 3; attempt++ {
			if n := acks.Load(); n != 0 {
				t.Fatalf("%d messages acknowledged before attempt %d committed", n, attempt)
			}
			w.release <- struct{}{}
		}
		<-done
		if n := acks.Load(); n != 2 {
			t.Fatalf("%d messages acknowledged after commit, want 2", n)
		}
		want := []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}
		if !slices.Equal(delays, want) {
			t.Fatalf("back-off delays %v, want %v", delays, want)
		}
	})

	t.Run("gives up without acknowledging when stopped", func(t *testing.T) {
		w := &scriptWriter{errs: []error{writer.ErrUnavailable, writer.ErrUnavailable,
			writer.ErrUnavailable}}
		c := newTestConsumer(t, w, Config{Sleep: func(ctx context.Context, _ time.Duration) error {
			return errors.New("stopped")
		}})

		var acks atomic.Int32
		c.flush([]inbound{telemetry("S1", goodReading, &acks)}, closed())
		if n := acks.Load(); n != 0 {
			t.Fatalf("%d messages acknowledged though nothing committed", n)
		}
	})

	t.Run("writes and acknowledges batches in arrival order", func(t *testing.T) {
		w := &scriptWriter{batches: make(chan writer.Batch, 2)}
		c := newTestConsumer(t, w, Config{})
		var acks atomic.Int32
		var order []string
		var mu sync.Mutex
		msg := func(serial string) inbound {
			p := strings.ReplaceAll(goodReading, "S1", serial)
			return inbound{serial: serial, msg: &fakeMessage{topic: TelemetryTopic("rl", serial),
				payload: []byte(p), acks: &acks, order: &order, mu: &mu}}
		}

		first := make(chan struct{})
		secondDone := make(chan struct{})
		go func() {
			c.flush([]inbound{msg("second")}, first)
			close(secondDone)
		}()
		// A window in which a write out of order would show.
		time.Sleep(20 * time.Millisecond)
		if n := w.calls.Load(); n != 0 {
			t.Fatalf("second batch written before the first (%d writes)", n)
		}
		c.flush([]inbound{msg("first")}, closed())
		close(first)
		<-secondDone

		var written []string
		for range 2 {
			written = append(written, (<-w.batches).Readings[0].DeviceID)
		}
		if !slices.Equal(written, []string{"first", "second"}) || len(order) != 2 ||
			!strings.Contains(order[0], "first") {
			t.Fatalf("written %v, acknowledged %v; want first, then second", written, order)
		}
	})
}

func TestConsumer_build(t *testing.T) {
	tests := []struct {
		name       string
		serial     string
		payload    string
		readings   int
		rejects    []string // field: reason prefix
		rejectedMs int
	}{
		{"one reading", "S1", goodReading, 1, nil, 0},
		{"array", "S1", "[" + goodReading + "," + goodReading + "]", 2, nil, 0},
		{"device_id filled from the topic", "S9",
			`{"timestamp":"2025-03-14T10:00:00Z","counters":{"total_tx_bytes":5}}`, 1, nil, 0},
		{"empty object filled", "S9", `{ }`, 1, nil, 0},
		{"serial mismatch", "S2", goodReading, 0, []string{`device_id: device_id "S1" does not match`}, 1},
		{"not JSON", "S1", `{"device_id":`, 0, []string{": reading: malformed body"}, 1},
		{"bad counter in an array", "S1",
			`[` + goodReading + `,{"device_id":"S1","counters":{"total_tx_bytes":-1}}]`,
			1, []string{"counters.total_tx_bytes: value -1 is negative"}, 0},
	}
	c := newTestConsumer(t, &scriptWriter{}, Config{Register: true})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var acks atomic.Int32
			b, rejected := c.build([]inbound{telemetry(tt.serial, tt.payload, &acks)})

			if b.Source != reading.SourceMQTT || !b.Register {
				t.Errorf("batch source %q register %v, want mqtt and true", b.Source, b.Register)
			}
			if len(b.Readings) != tt.readings || rejected != tt.rejectedMs {
				t.Fatalf("%d readings, %d rejected messages; want %d, %d (rejects %+v)",
					len(b.Readings), rejected, tt.readings, tt.rejectedMs, b.Rejects)
			}
			for _, r := range b.Readings {
				if r.DeviceID != tt.serial {
					t.Errorf("reading for %q, want %q", r.DeviceID, tt.serial)
				}
			}
			if len(b.Rejects) != len(tt.rejects) {
				t.Fatalf("rejects %+v, want %v", b.Rejects, tt.rejects)
			}
			for i, rej := range b.Rejects {
				got := rej.Field + ": " + rej.Reason
				if !strings.HasPrefix(got, tt.rejects[i]) || rej.Serial != tt.serial || len(rej.Payload) == 0 {
					t.Errorf("reject %q (serial %q), want prefix %q and serial %q",
						got, rej.Serial, tt.rejects[i], tt.serial)
				}
			}
		})
	}
}

func TestSerialOf(t *testing.T) {
	tests := []struct {
		prefix, topic, serial string
		ok                    bool
	}{
		{"routerlogger", "routerlogger/6000000001/telemetry", "6000000001", true},
		{"a/b", "a/b/S1/telemetry", "S1", true},
		{"routerlogger", "routerlogger//telemetry", "", false},
		{"routerlogger", "routerlogger/S1/x/telemetry", "", false},
		{"routerlogger", "routerlogger/S1/status", "", false},
		{"routerlogger", "other/S1/telemetry", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.topic, func(t *testing.T) {
			s, ok := serialOf(tt.prefix, tt.topic)
			if s != tt.serial || ok != tt.ok {
				t.Fatalf("serialOf(%q, %q) = %q, %v; want %q, %v", tt.prefix, tt.topic, s, ok,
					tt.serial, tt.ok)
			}
		})
	}
}

func TestConfig_withDefaults(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		err  string // substring; "" means valid
		sub  string
	}{
		{"shared", Config{Broker: "tcp://127.0.0.1:1883", ClientID: "a", ShareGroup: "g"}, "",
			"$share/g/routerlogger/+/telemetry"},
		{"plain", Config{Broker: "mqtt://h:1883", ClientID: "a", TopicPrefix: "x/y"}, "",
			"x/y/+/telemetry"},
		{"no broker", Config{ClientID: "a"}, "Broker is required", ""},
		{"bad scheme", Config{Broker: "http://h:1", ClientID: "a"}, "want scheme://host:port", ""},
		{"no client id", Config{Broker: "tcp://h:1"}, "ClientID is required", ""},
		{"wildcard prefix", Config{Broker: "tcp://h:1", ClientID: "a", TopicPrefix: "a/+"},
			"TopicPrefix", ""},
		{"empty level", Config{Broker: "tcp://h:1", ClientID: "a", TopicPrefix: "a//b"},
			"empty topic level", ""},
		{"bad group", Config{Broker: "tcp://h:1", ClientID: "a", ShareGroup: "g/h"}, "ShareGroup", ""},
		{"password hidden", Config{Broker: "tcp://u:secret@h", ClientID: "a",
			TopicPrefix: "#"}, "TopicPrefix", ""},
		{"poll without serials", Config{Broker: "tcp://h:1", ClientID: "a",
			Poll: &PollConfig{Interval: time.Second}}, "Poll.Serials", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cfg.withDefaults()
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || strings.Contains(err.Error(), "secret") {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s := got.subscription(); s != tt.sub {
				t.Errorf("subscription %q, want %q", s, tt.sub)
			}
			if got.Batch != DefaultBatch || got.InFlight != DefaultInFlight || got.RetryMax != DefaultRetryMax {
				t.Errorf("defaults not applied: %+v", got)
			}
		})
	}
}

func TestConsumer_writeBackoffCapped(t *testing.T) {
	var delays []time.Duration
	var mu sync.Mutex
	errs := make([]error, 5)
	for i := range errs {
		errs[i] = writer.ErrUnavailable
	}
	c := newTestConsumer(t, &scriptWriter{errs: errs}, Config{RetryMin: 100 * time.Millisecond,
		RetryMax: 400 * time.Millisecond, Sleep: recordSleep(&delays, &mu)})

	if !c.write(context.Background(), writer.Batch{}) {
		t.Fatal("write gave up")
	}
	want := []time.Duration{100, 200, 400, 400, 400}
	for i := range want {
		want[i] *= time.Millisecond
	}
	if !slices.Equal(delays, want) {
		t.Fatalf("delays %v, want %v", delays, want)
	}
}

// TestConsumer_StopWithoutBroker starts a consumer whose broker never
// answers and stops it: Stop returns promptly and without error.
func TestConsumer_StopWithoutBroker(t *testing.T) {
	c, err := New(&scriptWriter{}, Config{Broker: "tcp://127.0.0.1:1", ClientID: "nobody"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second || c.Connected() {
		t.Fatalf("stop took %s, connected %v", d, c.Connected())
	}
	if err := c.Stop(ctx); err != nil {
		t.Fatalf("second stop: %v", err)
	}
}
