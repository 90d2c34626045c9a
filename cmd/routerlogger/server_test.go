package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // TestMain's zone must load on machines without a zone database

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/ingest/tokens"
	"github.com/routerlogger/routerlogger/internal/db"
	"github.com/routerlogger/routerlogger/internal/pgtest"
	"github.com/routerlogger/routerlogger/internal/testkit"
)

// TestMain runs the package in New York time, so that any use of the local
// zone where UTC is meant shows up as a wrong timestamp.
func TestMain(m *testing.M) {
	os.Setenv("TZ", "America/New_York")
	os.Exit(m.Run())
}

// testServer is a running server on a fresh database.
type testServer struct {
	*server
	url   string
	token string
	pool  *pgxpool.Pool // a separate pool for the test's own queries
	stop  context.CancelFunc
}

func startTestServer(t *testing.T, dsn string, extra map[string]string) *testServer {
	t.Helper()
	vals := map[string]string{
		"DATABASE_URL":             dsn,
		"ROUTERLOGGER_HTTP_ADDR":   "127.0.0.1:0",
		"ROUTERLOGGER_TIMESCALE":   "off",
		"ROUTERLOGGER_RETRY_AFTER": "2s",
	}
	for k, v := range extra {
		vals[k] = v
	}
	e := &env{getenv: func(k string) string { return vals[k] }, stdout: io.Discard, stderr: io.Discard}
	f := newFlags(e, "serve", "serve")
	cfg := registerServe(f)
	if err := f.parse(nil); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	srv, err := startServer(ctx, cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ts := &testServer{server: srv, url: "http://" + srv.Addr, stop: cancel}
	t.Cleanup(func() {
		cancel()
		if err := srv.wait(); err != nil {
			t.Errorf("server stop: %v", err)
		}
	})

	ts.pool, err = db.Open(context.Background(), dsn, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ts.pool.Close)
	ts.token, err = tokens.NewStore(ts.pool, nil, 0).CreateFleet(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

type postResult struct {
	status int
	header http.Header
	body   struct {
		Accepted   int `json:"accepted"`
		Duplicates int `json:"duplicates"`
		Rejected   []struct {
			Index  int    `json:"index"`
			Field  string `json:"field"`
			Reason string `json:"reason"`
		} `json:"rejected"`
		Error string `json:"error"`
	}
}

func (ts *testServer) post(t *testing.T, contentType string, body []byte, hdr map[string]string) postResult {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, ts.url+"/api/v1/telemetry", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+ts.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var pr postResult
	pr.status, pr.header = resp.StatusCode, resp.Header
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &pr.body); err != nil {
		t.Fatalf("answer %d is not JSON: %q", resp.StatusCode, raw)
	}
	return pr
}

func fixtureLines(t *testing.T) [][]byte { return testkit.TelemetryLines(t) }

func checkFixtureTotals(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	for serial, w := range testkit.ExpectedUsage(t) {
		var tx, rx int64
		const q = `SELECT coalesce(sum(tx_bytes), 0)::bigint, coalesce(sum(rx_bytes), 0)::bigint
			FROM router_usage_daily WHERE serial = $1`
		if err := pool.QueryRow(context.Background(), q, serial).Scan(&tx, &rx); err != nil {
			t.Fatal(err)
		}
		if tx != w[0] || rx != w[1] {
			t.Errorf("%s: tx %d rx %d, want %d %d", serial, tx, rx, w[0], w[1])
		}
	}
}

func TestServe_FixtureLineByLine(t *testing.T) {
	ts := startTestServer(t, pgtest.NewDatabase(t), nil)
	lines := fixtureLines(t)

	for i, l := range lines {
		r := ts.post(t, "application/json", l, nil)
		if r.status != http.StatusAccepted || r.body.Accepted != 1 {
			t.Fatalf("line %d: %d %+v", i, r.status, r.body)
		}
	}
	checkFixtureTotals(t, ts.pool)

	var events string
	q := `SELECT string_agg(DISTINCT e, ',' ORDER BY e) FROM router_events, unnest(events) e`
	if err := ts.pool.QueryRow(context.Background(), q).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if events != "gap,glitch,late,reboot" {
		t.Errorf("events %q, want gap,glitch,late,reboot", events)
	}

	for i, l := range lines {
		r := ts.post(t, "", l, nil)
		if r.status != http.StatusAccepted || r.body.Duplicates != 1 {
			t.Fatalf("second delivery of line %d: %d %+v", i, r.status, r.body)
		}
	}
	checkFixtureTotals(t, ts.pool)
}

func TestServe_FixtureOneGzipBatch(t *testing.T) {
	ts := startTestServer(t, pgtest.NewDatabase(t), nil)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for _, l := range fixtureLines(t) {
		zw.Write(l)
		zw.Write([]byte("\n"))
	}
	zw.Close()

	r := ts.post(t, "application/x-ndjson", buf.Bytes(), map[string]string{"Content-Encoding": "gzip"})
	if r.status != http.StatusAccepted || r.body.Accepted != 840 {
		t.Fatalf("%d %+v", r.status, r.body)
	}
	checkFixtureTotals(t, ts.pool)

	for path, want := range map[string][]string{
		"/readyz": {`"status":"ready"`},
		"/metrics": {
			`routerlogger_samples_total{outcome="accepted",source="http"} 840`,
			`routerlogger_http_requests_total{code="202",method="POST",route="/api/v1/telemetry"} 1`,
			"routerlogger_writer_batch_readings_bucket", "routerlogger_writer_commit_seconds_bucket",
			"routerlogger_writer_queue_batches", "routerlogger_db_pool_acquired_connections",
		},
	} {
		resp, err := http.Get(ts.url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, w := range want {
			if resp.StatusCode != 200 || !strings.Contains(string(body), w) {
				t.Errorf("%s (%d) lacks %q", path, resp.StatusCode, w)
			}
		}
	}
}

func TestServe_BadInput(t *testing.T) {
	ts := startTestServer(t, pgtest.NewDatabase(t), map[string]string{"ROUTERLOGGER_HTTP_MAX_BODY": "4096"})
	good := `{"device_id":"BAD-1","timestamp":"2025-03-14T10:00:00Z","counters":{"total_tx_bytes":5}}`

	tests := []struct {
		name        string
		contentType string
		body        string
		status      int
		field       string
	}{
		{"no device_id", "", `{"timestamp":"2025-03-14T10:00:00Z"}`, 400, "device_id"},
		{"negative counter", "", `{"device_id":"X","counters":{"total_tx_bytes":-1}}`, 400, "counters.total_tx_bytes"},
		{"fractional counter", "", `{"device_id":"X","counters":{"total_rx_bytes":1.5}}`, 400, "counters.total_rx_bytes"},
		{"counter above int64", "", `{"device_id":"X","counters":{"total_rx_bytes":9223372036854775808}}`,
			400, "counters.total_rx_bytes"},
		{"bad timestamp", "", `{"device_id":"X","timestamp":"yesterday"}`, 400, "timestamp"},
		{"future timestamp", "", `{"device_id":"X","timestamp":"2999-01-01T00:00:00Z"}`, 400, "timestamp"},
		{"not json", "", `hello`, 400, ""},
		{"unknown type", "text/csv", good, 415, ""},
		{"too large", "", `{"device_id":"X","pad":"` + strings.Repeat("x", 5000) + `"}`, 413, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.post(t, tt.contentType, []byte(tt.body), nil)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d: %+v", r.status, tt.status, r.body)
			}
			if tt.field != "" && (len(r.body.Rejected) != 1 || r.body.Rejected[0].Field != tt.field) {
				t.Fatalf("rejected %+v, want field %s", r.body.Rejected, tt.field)
			}
		})
	}

	t.Run("half-bad batch commits its good items", func(t *testing.T) {
		body := good + "\n" + `{"device_id":"BAD-1","timestamp":"nope"}` + "\n" +
			strings.Replace(good, "10:00:00", "10:05:00", 1) + "\n"
		r := ts.post(t, "application/x-ndjson", []byte(body), nil)
		if r.status != 202 || r.body.Accepted != 2 || len(r.body.Rejected) != 1 || r.body.Rejected[0].Index != 1 {
			t.Fatalf("%d %+v", r.status, r.body)
		}
	})

	t.Run("no token", func(t *testing.T) {
		req, _ := http.NewRequest("POST", ts.url+"/api/v1/telemetry", strings.NewReader(good))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Fatalf("status %d, want 401", resp.StatusCode)
		}
	})

	t.Run("router token posts only for its router", func(t *testing.T) {
		tok, err := tokens.NewStore(ts.pool, nil, 0).CreateRouter(context.Background(), "OWN-1", "")
		if err != nil {
			t.Fatal(err)
		}
		saved := ts.token
		ts.token = tok
		defer func() { ts.token = saved }()
		body := `[{"device_id":"OWN-1","timestamp":"2025-03-14T10:00:00Z"},` + good + `]`
		r := ts.post(t, "", []byte(body), nil)
		if r.status != 202 || r.body.Accepted != 1 || len(r.body.Rejected) != 1 ||
			r.body.Rejected[0].Index != 1 || r.body.Rejected[0].Field != "device_id" {
			t.Fatalf("%d %+v", r.status, r.body)
		}
	})

	var rejects int
	if err := ts.pool.QueryRow(context.Background(), "SELECT count(*) FROM rejects").Scan(&rejects); err != nil {
		t.Fatal(err)
	}
	if rejects != 11 {
		t.Errorf("%d rejects stored, want 11 (one per rejected reading or body)", rejects)
	}
}

// TestServe_NaiveTimestampIsUTC posts a timestamp without offset while the
// process runs in New York time (TestMain sets TZ).
func TestServe_NaiveTimestampIsUTC(t *testing.T) {
	_, off := time.Date(2025, 3, 14, 10, 0, 0, 0, time.Local).Zone()
	if off != -4*3600 {
		t.Fatalf("process zone offset %d s, want New York's -14400: TZ was not applied", off)
	}

	ts := startTestServer(t, pgtest.NewDatabase(t), nil)
	r := ts.post(t, "", []byte(`{"device_id":"TZ-1","timestamp":"2025-03-14 10:05:00"}`), nil)
	if r.status != 202 {
		t.Fatalf("%d %+v", r.status, r.body)
	}
	var got time.Time
	const q = "SELECT last_seen FROM router_latest WHERE serial = 'TZ-1'"
	if err := ts.pool.QueryRow(context.Background(), q).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2025, 3, 14, 10, 5, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("stored %s, want %s", got.UTC(), want)
	}
}

// TestServe_DatabaseDown answers 503 with Retry-After while the database is
// stopped and loses nothing it acknowledged.
func TestServe_DatabaseDown(t *testing.T) {
	cluster := pgtest.StartCluster(t, pgtest.ClusterOptions{})
	ts := startTestServer(t, cluster.DSN, map[string]string{"ROUTERLOGGER_WRITER_TIMEOUT": "3s"})
	lines := fixtureLines(t)

	acked := 0
	for _, l := range lines[:50] {
		if r := ts.post(t, "", l, nil); r.status == 202 {
			acked += r.body.Accepted
		}
	}
	ts.pool.Close()
	cluster.Stop(t)

	r := ts.post(t, "", lines[50], nil)
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") != "2" {
		t.Fatalf("with the database stopped: %d Retry-After %q, want 503 and 2", r.status, r.header.Get("Retry-After"))
	}

	cluster.Start(t)
	for i, l := range lines[50:100] {
		for attempt := 0; ; attempt++ {
			r := ts.post(t, "", l, nil)
			if r.status == 202 {
				acked += r.body.Accepted
				break
			}
			if r.status != 503 || attempt > 5 {
				t.Fatalf("line %d after restart: %d %+v", 50+i, r.status, r.body)
			}
		}
	}

	pool, err := db.Open(context.Background(), cluster.DSN, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var stored int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM samples").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != 100 || acked != 100 {
		t.Fatalf("stored %d, acknowledged %d, want 100 each", stored, acked)
	}
}
