package webhook_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/routerlogger/routerlogger/ingest/webhook"
	"github.com/routerlogger/routerlogger/internal/clock"
	"github.com/routerlogger/routerlogger/internal/db"
	"github.com/routerlogger/routerlogger/internal/jobs"
	"github.com/routerlogger/routerlogger/internal/mac"
	"github.com/routerlogger/routerlogger/internal/pgtest"
	"github.com/routerlogger/routerlogger/internal/testkit"
)

// testSecret signs every test delivery.
var testSecret = []byte("test-portal-secret")

// fixtureRouters are the routers of the fixture README table.
var fixtureRouters = []struct{ serial, lan, wlan string }{
	{"6000000001", "00:1E:42:A0:01:10", "00:1E:42:A0:01:12"},
	{"6000000002", "00:1E:42:A0:02:20", "00:1E:42:A0:02:22"},
	{"6000000003", "00:1e:42:a0:03:30", "00:1e:42:a0:03:32"},
}

// env is a migrated database with the fixture routers, a running job
// runtime and the webhook behind an httptest server.
type env struct {
	pool    *pgxpool.Pool
	srv     *httptest.Server
	clock   *clock.Fake
	handler *webhook.Handler
	rt      *jobs.Runtime
	dlq     *webhook.DLQ
	reg     *prometheus.Registry // the worker's metrics
}

// newEnv builds an env whose jobs are tried maxAttempts times.
func newEnv(t *testing.T, maxAttempts int) *env {
	t.Helper()
	ctx := context.Background()
	pool := openPool(t)
	insertRouters(t, pool)

	quiet := slog.New(slog.DiscardHandler)
	reg := prometheus.NewRegistry()
	workers := river.NewWorkers()
	river.AddWorker(workers, &webhook.Worker{DB: pool, Log: quiet, Metrics: webhook.NewMetrics(reg),
		Backoff: func(int) time.Duration { return 10 * time.Millisecond }})
	rt, err := jobs.New(pool, jobs.Config{Workers: workers, MaxWorkers: 20,
		MaxAttempts: maxAttempts, StopGrace: time.Second, FetchPollInterval: 100 * time.Millisecond,
		Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := rt.Stop(context.Background()); err != nil {
			t.Errorf("stop jobs: %v", err)
		}
	})

	e := &env{pool: pool, rt: rt, reg: reg, clock: clock.NewFake(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))}
	e.handler = &webhook.Handler{DB: pool, Jobs: rt.Client(), Secret: testSecret, Clock: e.clock,
		Log: quiet}
	e.dlq = &webhook.DLQ{DB: pool, Jobs: rt.Client(), Log: quiet}
	r := chi.NewRouter()
	e.handler.Routes(r)
	e.srv = httptest.NewServer(r)
	t.Cleanup(e.srv.Close)
	return e
}

// openPool returns a pool on a fresh database with the project's and
// River's schema.
func openPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 40
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := db.Migrate(ctx, pool, slog.New(slog.DiscardHandler), db.TimescaleOff); err != nil {
		t.Fatal(err)
	}
	if err := jobs.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	return pool
}

// insertRouters adds the fixture routers with canonical MACs, as the core
// stores them.
func insertRouters(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	for _, r := range fixtureRouters {
		lan, wlan := mustMAC(t, r.lan), mustMAC(t, r.wlan)
		_, err := pool.Exec(context.Background(),
			"INSERT INTO routers (serial, lan_mac, wlan_mac) VALUES ($1, $2, $3)", r.serial, lan, wlan)
		if err != nil {
			t.Fatal(err)
		}
	}
}

func mustMAC(t *testing.T, s string) string {
	t.Helper()
	m, err := mac.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// post delivers body signed with the env's clock and secret, and returns
// the status and decoded answer.
func (e *env) post(t testing.TB, body []byte) (int, webhook.Response) {
	t.Helper()
	return e.postSigned(t, body, webhook.Sign(testSecret, e.clock.Now(), body))
}

// postSigned delivers body with the given signature header value.
func (e *env) postSigned(t testing.TB, body []byte, sig string) (int, webhook.Response) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+webhook.Path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(webhook.SignatureHeader, sig)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out webhook.Response
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decode answer %d: %v", resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

// waitJobs waits until River has no job left to work.
func (e *env) waitJobs(t *testing.T) {
	t.Helper()
	const q = `SELECT count(*) FROM river_job
		WHERE state IN ('available', 'running', 'retryable', 'scheduled', 'pending')`
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		if err := e.pool.QueryRow(context.Background(), q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d jobs still pending after 20 s", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// count runs a count query.
func (e *env) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// fixtureLines returns the lines of the fixture event file.
func fixtureLines(t testing.TB) [][]byte {
	t.Helper()
	f, err := os.Open(filepath.Join(testkit.FixturesDir(t), "captive-portal-events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines [][]byte
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			lines = append(lines, bytes.Clone(line))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// guestSession is one row of the view guest_sessions.
type guestSession struct {
	RouterSerial *string    `json:"router_serial"`
	GuestMAC     string     `json:"guest_mac"`
	Email        *string    `json:"email"`
	StartedAt    *time.Time `json:"started_at"`
	EndedAt      *time.Time `json:"ended_at"`
	EndReason    *string    `json:"end_reason"`
	Matched      bool       `json:"-"`
}

// sessions reads guest_sessions by session id.
func (e *env) sessions(t *testing.T) map[string]guestSession {
	t.Helper()
	rows, err := e.pool.Query(context.Background(), `SELECT session_id, router_serial, guest_mac,
		email, started_at, ended_at, end_reason, matched FROM guest_sessions`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]guestSession{}
	for rows.Next() {
		var id string
		var s guestSession
		if err := rows.Scan(&id, &s.RouterSerial, &s.GuestMAC, &s.Email, &s.StartedAt, &s.EndedAt,
			&s.EndReason, &s.Matched); err != nil {
			t.Fatal(err)
		}
		normalise(&s)
		out[id] = s
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// normalise puts times in UTC so that sessions compare with ==.
func normalise(s *guestSession) {
	for _, p := range []**time.Time{&s.StartedAt, &s.EndedAt} {
		if *p != nil {
			u := (*p).UTC()
			*p = &u
		}
	}
}

// String renders a session for comparison and messages.
func (s guestSession) String() string {
	str := func(p *string) string {
		if p == nil {
			return "<nil>"
		}
		return *p
	}
	tm := func(p *time.Time) string {
		if p == nil {
			return "<nil>"
		}
		return p.UTC().Format(time.RFC3339Nano)
	}
	return "router=" + str(s.RouterSerial) + " mac=" + s.GuestMAC + " email=" + str(s.Email) +
		" started=" + tm(s.StartedAt) + " ended=" + tm(s.EndedAt) + " reason=" + str(s.EndReason) +
		" matched=" + map[bool]string{true: "true", false: "false"}[s.Matched]
}

// compareSessions reports every difference between got and want.
func compareSessions(t *testing.T, got, want map[string]guestSession) {
	t.Helper()
	for id, w := range want {
		g, ok := got[id]
		if !ok {
			t.Errorf("session %s missing, want %s", id, w)
			continue
		}
		if g.String() != w.String() {
			t.Errorf("session %s:\n got %s\nwant %s", id, g, w)
		}
	}
	for id, g := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("unexpected session %s: %s", id, g)
		}
	}
}
