package clickup_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/writer/writertest"
	"github.com/routerlogger/routerlogger/internal/fleet"
	"github.com/routerlogger/routerlogger/sync/clickup"
	"github.com/routerlogger/routerlogger/sync/clickup/clickuptest"
	"github.com/routerlogger/routerlogger/sync/syncrun"
)

// TestJob_RateLimitStopsPartial answers a create with a 429 whose wait
// passes the run's deadline: the run ends partial at its cursor and the
// next one goes on from there, with one create per router overall.
func TestJob_RateLimitStopsPartial(t *testing.T) {
	h := newHarness(t, harnessOpts{runTimeout: 30 * time.Second})
	h.load(t, time.Time{}, dayEnd)
	h.fake.On(&clickuptest.Scripted{Method: "POST", PathHas: "/list/", Skip: 1, Times: 1,
		Status: 429, Header: http.Header{"Retry-After": {"120"}},
		Body: `{"err":"Rate limit reached","ECODE":"APP_002"}`})

	res := h.run(t)
	if res.Status != syncrun.StatusPartial || !strings.Contains(res.Error, "rate limited for 2m0s") ||
		res.Counts.Changed != 1 || len(h.takeWaits()) != 0 {
		t.Fatalf("run %+v", res)
	}
	if !res.RetryAt.After(time.Now().Add(110 * time.Second)) {
		t.Errorf("retry at %s, want after the 120 s the 429 asked for", res.RetryAt)
	}
	var cursor string
	if err := h.pool.QueryRow(t.Context(), `SELECT cursor FROM sync_runs WHERE id = $1`,
		res.RunID).Scan(&cursor); err != nil {
		t.Fatal(err)
	}
	if cursor != "1" {
		t.Errorf("cursor %q, want 1 (the first router)", cursor)
	}
	h.fake.Requests()

	res = h.run(t)
	reqs := h.fake.Requests()
	if res.Status != syncrun.StatusOK || res.Counts.Changed != 2 || count(reqs, "POST", "/list/") != 2 ||
		len(h.fake.Tasks()) != 3 {
		t.Fatalf("next run %+v sent %+v", res, reqs)
	}
}

// TestJob_StatusComments comments once per offline and online transition.
func TestJob_StatusComments(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.load(t, time.Time{}, dayEnd)
	h.run(t)
	comments := func(name string) []string { return h.fake.TaskByName(name).Comments }
	if c := comments("RL-TEST-001 (RUT241)"); len(c) != 0 {
		t.Fatalf("comments on create: %q", c)
	}

	// 25 minutes after the last readings: every router is offline.
	h.clock.Set(dayEnd.Add(20 * time.Minute))
	h.run(t)
	for _, task := range h.fake.Tasks() {
		if len(task.Comments) != 1 || !strings.Contains(task.Comments[0], "went offline") ||
			string(task.Values[idStatus]) != optOffline {
			t.Errorf("%s: comments %q, status %s", task.Name, task.Comments, task.Values[idStatus])
		}
	}
	h.fake.Requests()
	if res := h.run(t); res.Counts.Skipped != 3 || len(h.fake.Requests()) != 0 {
		t.Errorf("still offline: run %+v sent requests", res)
	}

	// RL-TEST-001 reports again.
	at := dayEnd.Add(21 * time.Minute)
	tx, rx, up := int64(73_400_000), int64(426_400_000), int64(51_200)
	writertest.Write(t, h.w, reading.Reading{DeviceID: "6000000001", Time: at, TxBytes: &tx, RxBytes: &rx, Uptime: &up})
	h.clock.Set(at.Add(time.Minute))
	h.run(t)
	h.run(t)
	c := comments("RL-TEST-001 (RUT241)")
	if len(c) != 2 || !strings.Contains(c[1], "back online") {
		t.Errorf("RL-TEST-001 comments %q, want offline then back online", c)
	}
	if c := comments("RL-TEST-002 (RUT950)"); len(c) != 1 {
		t.Errorf("RL-TEST-002 comments %q, want the offline one only", c)
	}
	var status string
	if err := h.pool.QueryRow(t.Context(), `
		SELECT last_status FROM clickup_task_sync WHERE serial = '6000000001'`).Scan(&status); err != nil {
		t.Fatal(err)
	}
	if status != clickup.StatusOnline {
		t.Errorf("last_status %s", status)
	}
}

// assigner records property assignments.
type assigner struct {
	mu    sync.Mutex
	calls []string
}

func (a *assigner) AssignProperty(_ context.Context, serial, property string, at time.Time,
	source string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, serial+"="+property+"@"+at.Format(time.RFC3339)+" "+source)
	return nil
}

// TestJob_Property assigns the property a person set on a task, once.
func TestJob_Property(t *testing.T) {
	a := &assigner{}
	h := newHarness(t, harnessOpts{cfg: clickup.Config{Property: a}})
	h.fake.AddField(map[string]any{"id": "a1b2c3d4-0000-4000-8000-000000000020", "name": "property",
		"type": "short_text", "type_config": map[string]any{}})
	h.load(t, time.Time{}, dayEnd)
	h.run(t)

	task := h.fake.TaskByName("RL-TEST-001 (RUT241)")
	h.fake.SetValue(task.ID, "a1b2c3d4-0000-4000-8000-000000000020", []byte(`"Harbour Hotel"`))
	h.run(t)
	h.run(t)
	want := "6000000001=Harbour Hotel@2025-03-14T23:59:59Z clickup"
	if len(a.calls) != 1 || a.calls[0] != want {
		t.Errorf("assignments %q, want [%s]", a.calls, want)
	}
}

// fleetProps assigns through internal/fleet, set up once the harness has
// its database.
type fleetProps struct{ s *fleet.Store }

func (f *fleetProps) AssignProperty(ctx context.Context, serial, property string, at time.Time,
	source string) error {
	_, err := f.s.AssignProperty(ctx, serial, property, at, source)
	return err
}

// TestJob_PropertyHistory: a task moved from one property to another
// leaves both periods in the router's property history.
func TestJob_PropertyHistory(t *testing.T) {
	props := &fleetProps{}
	h := newHarness(t, harnessOpts{cfg: clickup.Config{Property: props}})
	props.s = fleet.NewStore(h.pool)
	const field = "a1b2c3d4-0000-4000-8000-000000000020"
	h.fake.AddField(map[string]any{"id": field, "name": "Property", "type": "short_text",
		"type_config": map[string]any{}})
	h.load(t, time.Time{}, dayEnd)
	h.run(t)

	task := h.fake.TaskByName("RL-TEST-001 (RUT241)")
	h.fake.SetValue(task.ID, field, []byte(`"Harbour Hotel"`))
	h.run(t)
	h.clock.Advance(time.Hour)
	h.fake.SetValue(task.ID, field, []byte(`"Station Café"`))
	h.run(t)

	rows, err := h.pool.Query(t.Context(), `SELECT property, valid_to IS NULL
		FROM router_property_history WHERE serial = '6000000001' ORDER BY valid_from`)
	if err != nil {
		t.Fatal(err)
	}
	type period struct {
		Property string
		Current  bool
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[period])
	if err != nil {
		t.Fatal(err)
	}
	want := []period{{"Harbour Hotel", false}, {"Station Café", true}}
	if !slices.Equal(got, want) {
		t.Fatalf("property history %+v, want %+v", got, want)
	}
}
