package clickup_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/writer"
	"github.com/routerlogger/routerlogger/ingest/writer/writertest"
	"github.com/routerlogger/routerlogger/internal/clock"
	"github.com/routerlogger/routerlogger/internal/locks"
	"github.com/routerlogger/routerlogger/internal/testkit"
	"github.com/routerlogger/routerlogger/sync/clickup"
	"github.com/routerlogger/routerlogger/sync/clickup/clickuptest"
	"github.com/routerlogger/routerlogger/sync/syncrun"
)

// Instants of the fixture day.
var (
	morning = time.Date(2025, 3, 14, 9, 55, 30, 0, time.UTC)
	dayEnd  = time.Date(2025, 3, 14, 23, 59, 59, 0, time.UTC)
)

// harness is a job against the fake with a migrated database, a fake
// clock and a sleeper that records its waits and advances the clock.
type harness struct {
	pool   *pgxpool.Pool
	fake   *clickuptest.Fake
	clock  *clock.Fake
	w      *writer.Writer
	client *clickup.Client
	job    *clickup.Job
	runner *syncrun.Runner

	mu    sync.Mutex
	waits []time.Duration
}

type harnessOpts struct {
	cfg        clickup.Config
	runTimeout time.Duration
	lowWater   int
}

func newHarness(t *testing.T, o harnessOpts) *harness {
	t.Helper()
	h := &harness{pool: testkit.MigratedDB(t), fake: clickuptest.New(t), clock: clock.NewFake(dayEnd)}
	h.w = writertest.Start(t, h.pool, writer.Config{})

	var err error
	h.client, err = clickup.NewClient(clickup.ClientConfig{BaseURL: h.fake.URL(),
		Token: clickuptest.Token, Clock: h.clock, Sleep: h.sleep, LowWater: o.lowWater})
	if err != nil {
		t.Fatal(err)
	}
	cfg := o.cfg
	cfg.ListID = clickuptest.List
	cfg.Clock, cfg.Sleep = h.clock, h.sleep
	if cfg.GrafanaURL == "" {
		cfg.GrafanaURL, cfg.DashboardUID = "https://grafana.example.com", "routerlogger-router-detail"
	}
	h.job, err = clickup.New(h.pool, h.client, cfg)
	if err != nil {
		t.Fatal(err)
	}

	lk, err := locks.New(h.pool, locks.Options{Holder: "test", Wait: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h.runner, err = syncrun.NewRunner(h.pool, syncrun.Options{Locks: lk, RunTimeout: o.runTimeout,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.runner.Register(h.job, 15*time.Minute); err != nil {
		t.Fatal(err)
	}
	return h
}

// sleep records d and moves the clock on by it.
func (h *harness) sleep(_ context.Context, d time.Duration) error {
	h.mu.Lock()
	h.waits = append(h.waits, d)
	h.mu.Unlock()
	h.clock.Advance(d)
	return nil
}

// takeWaits returns the recorded waits and forgets them.
func (h *harness) takeWaits() []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.waits
	h.waits = nil
	return out
}

// run runs the job once at the clock's time.
func (h *harness) run(t *testing.T) syncrun.Result {
	t.Helper()
	res, err := h.runner.RunOnce(t.Context(), clickup.JobName)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// load writes the fixture day's readings up to until (inclusive) through
// the real writer, then gives the routers their RMS ids.
func (h *harness) load(t *testing.T, from, until time.Time) {
	t.Helper()
	var rs []reading.Reading
	for _, r := range writertest.Parse(t, dayEnd, testkit.TelemetryLines(t)...) {
		if !r.Time.Before(from) && !r.Time.After(until) {
			rs = append(rs, r)
		}
	}
	writertest.Write(t, h.w, rs...)
	if _, err := h.pool.Exec(t.Context(), `
		UPDATE routers SET rms_id = 1500000 + right(serial, 1)::bigint`); err != nil {
		t.Fatal(err)
	}
}

// count returns how many recorded requests match method and a path
// fragment.
func count(reqs []clickuptest.Request, method, pathHas string) int {
	n := 0
	for _, r := range reqs {
		if r.Method == method && strings.Contains(r.Path, pathHas) {
			n++
		}
	}
	return n
}

// value returns the JSON of a task's field value ("" when unset).
func value(t *clickuptest.Task, field string) string {
	if t == nil {
		return ""
	}
	return string(t.Values[field])
}

// Field ids of clickup-list-fields.json.
const (
	idMAC       = "a1b2c3d4-0000-4000-8000-00000000000a"
	idLastSeen  = "a1b2c3d4-0000-4000-8000-00000000000f"
	idDataToday = "a1b2c3d4-0000-4000-8000-000000000010"
	idStatus    = "a1b2c3d4-0000-4000-8000-000000000011"
	optOnline   = `"b0000000-0000-4000-8000-000000000001"`
	optOffline  = `"b0000000-0000-4000-8000-000000000002"`
)

func compact(t *testing.T, raw []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	out, _ := json.Marshal(v)
	return string(out)
}
