package mqtt_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/routerlogger/routerlogger/ingest/mqtt"
	"github.com/routerlogger/routerlogger/ingest/mqtt/mqtttest"
	"github.com/routerlogger/routerlogger/ingest/writer"
	"github.com/routerlogger/routerlogger/internal/db"
	"github.com/routerlogger/routerlogger/internal/testkit"
)

var fixtures = filepath.Join("..", "..", "..", "shared", "fixtures")

// startWriter starts a writer on pool, closed when the test ends.
func startWriter(t testing.TB, pool *pgxpool.Pool, cfg writer.Config) *writer.Writer {
	t.Helper()
	cfg.Mode = db.ModePlain
	w := writer.New(pool, cfg)
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close(context.Background()) })
	return w
}

// countingWriter counts the readings it passed on.
type countingWriter struct {
	w        mqtt.Writer
	readings atomic.Int64
}

func (c *countingWriter) Write(ctx context.Context, b writer.Batch) (writer.Result, error) {
	res, err := c.w.Write(ctx, b)
	if err == nil {
		c.readings.Add(int64(len(b.Readings)))
	}
	return res, err
}

// consumer is a started consumer and its metrics.
type consumer struct {
	*mqtt.Consumer
	reg *prometheus.Registry
}

// startConsumer starts a consumer on broker with test-friendly defaults,
// waits until it is connected and stops it when the test ends.
func startConsumer(t testing.TB, w mqtt.Writer, cfg mqtt.Config) *consumer {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	cfg.Register = true
	if cfg.Linger == 0 {
		cfg.Linger = 5 * time.Millisecond
	}
	if cfg.MaxReconnectInterval == 0 {
		cfg.MaxReconnectInterval = 500 * time.Millisecond
	}
	if cfg.RetryMax == 0 {
		cfg.RetryMin, cfg.RetryMax = 20*time.Millisecond, 200*time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	c, err := mqtt.New(w, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := c.Stop(ctx); err != nil {
			t.Errorf("consumer stop: %v", err)
		}
		mqtttest.ForgetSession(t, cfg.Broker, cfg.ClientID)
	})
	eventually(t, 20*time.Second, "consumer connected and subscribed", func() (bool, string) {
		return c.Connected(), ""
	})
	return &consumer{Consumer: c, reg: reg}
}

// metric returns the value of the consumer's messages counter for outcome,
// or of its retries counter when outcome is "retries".
func (c *consumer) metric(t testing.TB, outcome string) float64 {
	t.Helper()
	mfs, err := c.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch {
			case outcome == "retries" && mf.GetName() == "routerlogger_mqtt_write_retries_total":
				return m.GetCounter().GetValue()
			case outcome == "connected" && mf.GetName() == "routerlogger_mqtt_connected":
				return m.GetGauge().GetValue()
			case mf.GetName() == "routerlogger_mqtt_messages_total" &&
				len(m.GetLabel()) == 1 && m.GetLabel()[0].GetValue() == outcome:
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// testLogger logs to the test at debug level when -v is given.
func testLogger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}

// eventually polls cond every 20 ms until it holds or timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
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

// count runs a count query; on error (the database may be down) it
// returns -1.
func count(pool *pgxpool.Pool, q string, args ...any) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var n int
	if err := pool.QueryRow(ctx, q, args...).Scan(&n); err != nil {
		return -1
	}
	return n
}

// waitSamples waits until the samples table holds n rows.
func waitSamples(t testing.TB, pool *pgxpool.Pool, n int, timeout time.Duration) {
	t.Helper()
	eventually(t, timeout, fmt.Sprintf("%d samples stored", n), func() (bool, string) {
		got := count(pool, "SELECT count(*) FROM samples")
		return got == n, fmt.Sprintf("%d stored", got)
	})
}

// fixtureMessages returns the fixture day, one message per line, on the
// telemetry topic of each line's device_id under prefix.
func fixtureMessages(t testing.TB, prefix string) []mqtttest.Message {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtures, "router-telemetry-http.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	var out []mqtttest.Message
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var head struct {
			DeviceID string `json:"device_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &head); err != nil {
			t.Fatal(err)
		}
		out = append(out, mqtttest.Message{Topic: mqtt.TelemetryTopic(prefix, head.DeviceID),
			Payload: append([]byte(nil), sc.Bytes()...)})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

type expectedDay struct {
	Routers map[string]struct {
		Samples int   `json:"samples_in_file"`
		Tx      int64 `json:"tx_bytes_used"`
		Rx      int64 `json:"rx_bytes_used"`
	} `json:"routers"`
}

// checkFixtureTotals compares router_usage_daily with the fixture's
// expected totals, router by router.
func checkFixtureTotals(t testing.TB, pool *pgxpool.Pool) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(fixtures, "router-telemetry-expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want expectedDay
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	for serial, w := range want.Routers {
		var tx, rx, n int64
		q := `SELECT coalesce(sum(tx_bytes), 0)::bigint, coalesce(sum(rx_bytes), 0)::bigint,
			(SELECT count(*) FROM samples s JOIN routers r ON r.id = s.router_id WHERE r.serial = $1)
			FROM router_usage_daily WHERE serial = $1`
		if err := pool.QueryRow(context.Background(), q, serial).Scan(&tx, &rx, &n); err != nil {
			t.Fatal(err)
		}
		if tx != w.Tx || rx != w.Rx || n != int64(w.Samples) {
			t.Errorf("%s: tx %d rx %d samples %d, want %d %d %d", serial, tx, rx, n, w.Tx, w.Rx, w.Samples)
		}
	}
}

// series is a synthetic load: perRouter readings of each router, one a
// minute, counters rising by fixed steps, interleaved across routers.
type series struct {
	prefix    string
	routers   int
	perRouter int
}

const txStep, rxStep = 1000, 5000

func (s series) serial(r int) string { return fmt.Sprintf("%s-R%03d", s.prefix, r) }

func (s series) messages() []mqtttest.Message {
	start := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	var out []mqtttest.Message
	for k := 0; k < s.perRouter; k++ {
		for r := 0; r < s.routers; r++ {
			body := fmt.Sprintf(`{"device_id":%q,"timestamp":%q,"uptime":%d,`+
				`"counters":{"total_tx_bytes":%d,"total_rx_bytes":%d}}`,
				s.serial(r), start.Add(time.Duration(k)*time.Minute).Format(time.RFC3339),
				1000+60*k, 1_000_000+txStep*k, 2_000_000+rxStep*k)
			out = append(out, mqtttest.Message{Topic: mqtt.TelemetryTopic("load", s.serial(r)),
				Payload: []byte(body)})
		}
	}
	return out
}

// check verifies that every reading is stored exactly once and usage is
// counted once: per router, perRouter samples and (perRouter-1) steps.
func (s series) check(t testing.TB, pool *pgxpool.Pool) {
	t.Helper()
	total := count(pool, "SELECT count(*) FROM samples")
	distinct := count(pool, "SELECT count(DISTINCT (router_id, time)) FROM samples")
	if want := s.routers * s.perRouter; total != want || distinct != want {
		t.Fatalf("%d samples, %d distinct readings; want %d", total, distinct, want)
	}
	q := `SELECT u.serial, sum(u.tx_bytes)::bigint, sum(u.rx_bytes)::bigint,
		(SELECT count(*) FROM samples s JOIN routers r ON r.id = s.router_id WHERE r.serial = u.serial)
		FROM router_usage_daily u GROUP BY u.serial`
	rows, err := pool.Query(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var serial string
		var tx, rx, n int64
		if err := rows.Scan(&serial, &tx, &rx, &n); err != nil {
			t.Fatal(err)
		}
		seen++
		steps := int64(s.perRouter - 1)
		if tx != steps*txStep || rx != steps*rxStep || n != int64(s.perRouter) {
			t.Errorf("%s: tx %d rx %d samples %d; want %d %d %d", serial, tx, rx, n,
				steps*txStep, steps*rxStep, s.perRouter)
		}
	}
	if seen != s.routers {
		t.Errorf("usage for %d routers, want %d", seen, s.routers)
	}
}

// newDatabase returns a pool on a fresh migrated database of the shared
// test server.
func newDatabase(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return testkit.MigratedDB(t)
}
