package clickup_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/sync/clickup"
	"github.com/routerlogger/routerlogger/sync/clickup/clickuptest"
	"github.com/routerlogger/routerlogger/sync/syncrun"
)

// syncedAt returns the change hash and synced_at of serial's task row.
func syncedAt(t *testing.T, h *harness, serial string) (string, time.Time) {
	t.Helper()
	var hash string
	var at time.Time
	err := h.pool.QueryRow(t.Context(), `
		SELECT change_hash, synced_at FROM clickup_tasks c JOIN routers r ON r.id = c.router_id
		WHERE r.serial = $1`, serial).Scan(&hash, &at)
	if err != nil {
		t.Fatal(err)
	}
	return hash, at
}

// TestJob_FieldWriteFailsPartWay fails the 3rd field write of a run once:
// the next run sends only that write, creates nothing, and saves the
// router's hash only then.
func TestJob_FieldWriteFailsPartWay(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.load(t, time.Time{}, morning)
	h.clock.Set(morning)
	if res := h.run(t); res.Status != syncrun.StatusOK {
		t.Fatalf("morning run %+v", res)
	}
	h.fake.Requests()

	h.load(t, morning.Add(time.Second), dayEnd)
	h.clock.Set(dayEnd)
	h.fake.On(&clickuptest.Scripted{Method: "POST", PathHas: "/field/", Skip: 2, Times: 1,
		Status: 500, Body: `{"err":"Internal error","ECODE":"APP_500"}`})
	res := h.run(t)
	reqs := h.fake.Requests()
	if res.Status != syncrun.StatusPartial || res.Counts.Failed != 1 || res.Counts.Changed != 2 {
		t.Fatalf("run with a failed write %+v", res)
	}
	var failed clickuptest.Request
	for i, n := 0, 0; i < len(reqs) && n < 3; i++ {
		if strings.Contains(reqs[i].Path, "/field/") {
			failed, n = reqs[i], n+1
		}
	}
	var serial string
	taskID := strings.Split(failed.Path, "/")[2]
	if err := h.pool.QueryRow(t.Context(), `
		SELECT serial FROM clickup_task_sync WHERE task_id = $1`, taskID).Scan(&serial); err != nil {
		t.Fatal(err)
	}
	hashBefore, atBefore := syncedAt(t, h, serial)
	if !atBefore.Equal(morning) {
		t.Errorf("%s synced at %s after a failed write, want the morning's %s", serial, atBefore, morning)
	}

	res = h.run(t)
	again := h.fake.Requests()
	if res.Status != syncrun.StatusOK || len(again) != 1 || again[0].Path != failed.Path ||
		string(again[0].Body) != string(failed.Body) {
		t.Fatalf("next run %+v sent %+v, want only %s %s", res, again, failed.Path, failed.Body)
	}
	hashAfter, atAfter := syncedAt(t, h, serial)
	if hashAfter == hashBefore || !atAfter.Equal(dayEnd) {
		t.Errorf("hash not saved after the finishing run: %s at %s", hashAfter, atAfter)
	}
	if n := len(h.fake.Tasks()); n != 3 {
		t.Errorf("%d tasks, want 3 (one create per router)", n)
	}
	if res := h.run(t); len(h.fake.Requests()) != 0 || res.Counts.Skipped != 3 {
		t.Errorf("third run %+v sent requests", res)
	}
}

// TestJob_DiscoveryRetried answers the field list with 500 twice: the run
// retries after 1 s and 2 s and the tasks get their MAC.
func TestJob_DiscoveryRetried(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.load(t, time.Time{}, dayEnd)
	h.fake.On(&clickuptest.Scripted{Method: "GET", PathHas: "/field", Times: 2, Status: 500,
		Body: `{"err":"Internal error","ECODE":"APP_500"}`})

	res := h.run(t)
	if res.Status != syncrun.StatusOK {
		t.Fatalf("run %+v", res)
	}
	if w := h.takeWaits(); !slices.Equal(w, []time.Duration{time.Second, 2 * time.Second}) {
		t.Errorf("discovery waits %v, want [1s 2s]", w)
	}
	if got := value(h.fake.TaskByName("RL-TEST-001 (RUT241)"), idMAC); got != `"00:1E:42:A0:01:10"` {
		t.Errorf("MAC %s", got)
	}
}

// TestJob_DiscoveryFails fails the run when the fields cannot be read.
func TestJob_DiscoveryFails(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.load(t, time.Time{}, dayEnd)
	h.fake.On(&clickuptest.Scripted{Method: "GET", PathHas: "/field", Times: 10, Status: 503,
		Body: `{"err":"Service unavailable","ECODE":"APP_503"}`})

	res := h.run(t)
	reqs := h.fake.Requests()
	if res.Status != syncrun.StatusFailed || len(reqs) != clickup.DefaultDiscoveryAttempts ||
		!strings.Contains(res.Error, "discover fields") {
		t.Fatalf("run %+v after %d requests", res, len(reqs))
	}
}

// TestJob_MissingMACField creates the tasks without the MAC field the list
// lacks; once the field exists, the next run finds it and writes the MAC.
func TestJob_MissingMACField(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.load(t, time.Time{}, dayEnd)
	restore := h.fake.RemoveField("MAC Address")

	res := h.run(t)
	if res.Status != syncrun.StatusPartial || !strings.Contains(res.Error, "MAC Address") ||
		res.Counts.Changed != 3 {
		t.Fatalf("run without the field %+v", res)
	}
	if got := value(h.fake.TaskByName("RL-TEST-001 (RUT241)"), idMAC); got != "" {
		t.Fatalf("MAC %s without the field", got)
	}
	h.fake.Requests()

	restore()
	res = h.run(t)
	reqs := h.fake.Requests()
	if res.Status != syncrun.StatusOK || count(reqs, "GET", "/field") != 1 ||
		count(reqs, "POST", "/field/"+idMAC) != 3 || len(reqs) != 4 {
		t.Fatalf("run with the field %+v sent %+v", res, reqs)
	}
	if got := value(h.fake.TaskByName("RL-TEST-001 (RUT241)"), idMAC); got != `"00:1E:42:A0:01:10"` {
		t.Errorf("MAC %s", got)
	}
}

// TestJob_FieldGone rediscovers the fields when a write says its field is
// unknown, and goes on without it.
func TestJob_FieldGone(t *testing.T) {
	h := newHarness(t, harnessOpts{cfg: clickup.Config{FieldTTL: 48 * time.Hour}})
	h.load(t, time.Time{}, morning)
	h.clock.Set(morning)
	h.run(t)
	h.fake.Requests()

	h.fake.RemoveField("Last Seen")
	h.load(t, morning.Add(time.Second), dayEnd)
	h.clock.Set(dayEnd)
	res := h.run(t)
	reqs := h.fake.Requests()
	if count(reqs, "GET", "/field") != 1 || count(reqs, "POST", "/field/"+idLastSeen) != 1 ||
		res.Status != syncrun.StatusPartial || res.Counts.Failed != 1 {
		t.Fatalf("run %+v sent %+v", res, reqs)
	}
	// The other routers were synced without the field, the failed one is
	// finished next run (its data-used write already went through).
	res = h.run(t)
	reqs = h.fake.Requests()
	if res.Counts.Changed != 1 || count(reqs, "POST", "/field/") != 0 {
		t.Errorf("next run %+v sent %+v", res, reqs)
	}
}

// TestJob_AuthError fails the run on 401 OAUTH_023 and never asks for a
// token.
func TestJob_AuthError(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.load(t, time.Time{}, dayEnd)
	h.fake.On(&clickuptest.Scripted{Method: "POST", PathHas: "/list/", Times: 1, Status: 401,
		Body: `{"err":"Team(s) not authorized","ECODE":"OAUTH_023"}`})

	res := h.run(t)
	reqs := h.fake.Requests()
	if res.Status != syncrun.StatusFailed || !strings.Contains(res.Error, "OAUTH_023") ||
		strings.Count(res.Error, "clickup:") != 1 || count(reqs, "POST", "/list/") != 1 {
		t.Fatalf("run %+v sent %+v", res, reqs)
	}
	if n := h.fake.OAuthHits(); n != 0 || count(reqs, "POST", "/oauth/token") != 0 {
		t.Errorf("%d token requests, want 0", n)
	}

	_, err := h.client.CreateTask(t.Context(), clickuptest.List, clickup.NewTask{Name: "x"})
	if err != nil {
		t.Fatal(err) // the script was used up: the fake accepts again
	}
	h.fake.On(&clickuptest.Scripted{Method: "GET", PathHas: "/field", Times: 1, Status: 401,
		Body: `{"err":"Team(s) not authorized","ECODE":"OAUTH_023"}`})
	_, err = h.client.Fields(t.Context(), clickuptest.List)
	var apiErr *clickup.Error
	if !clickup.IsAuth(err) || !errors.As(err, &apiErr) || apiErr.Code != "OAUTH_023" ||
		apiErr.Status != http.StatusUnauthorized || h.fake.OAuthHits() != 0 {
		t.Errorf("error %v, want an authorization error", err)
	}
}

// TestJob_LostCreate loses the answer of a create that went through: the
// next run finds the task in the list instead of creating another.
func TestJob_LostCreate(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.load(t, time.Time{}, dayEnd)
	h.fake.On(&clickuptest.Scripted{Method: "POST", PathHas: "/list/", Times: 1, After: true,
		Status: 504, Body: `{"err":"Gateway timeout","ECODE":"APP_504"}`})

	res := h.run(t)
	if res.Status != syncrun.StatusPartial || res.Counts.Failed != 1 || len(h.fake.Tasks()) != 3 {
		t.Fatalf("run %+v with %d tasks", res, len(h.fake.Tasks()))
	}
	h.fake.Requests()

	res = h.run(t)
	reqs := h.fake.Requests()
	if res.Status != syncrun.StatusOK || count(reqs, "POST", "/list/") != 0 ||
		count(reqs, "GET", "/list/"+clickuptest.List+"/task") != 1 || len(h.fake.Tasks()) != 3 {
		t.Fatalf("next run %+v sent %+v", res, reqs)
	}
	var pending int
	if err := h.pool.QueryRow(t.Context(), `
		SELECT count(*) FROM clickup_task_sync WHERE pending OR task_id IS NULL`).Scan(&pending); err != nil {
		t.Fatal(err)
	}
	if pending != 0 {
		t.Errorf("%d tasks pending", pending)
	}
}
