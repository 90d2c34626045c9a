package clickup_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/sync/clickup/clickuptest"
	"github.com/routerlogger/routerlogger/sync/syncrun"
)

// TestJob_EndOfDay follows the fixture story: a sync in the morning
// creates the tasks, the end-of-day sync writes RL-TEST-001's changed
// fields with the values of clickup-set-field-value.json.
func TestJob_EndOfDay(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.load(t, time.Time{}, morning)
	h.clock.Set(morning)

	res := h.run(t)
	reqs := h.fake.Requests()
	if res.Status != syncrun.StatusOK || res.Counts.Changed != 3 || count(reqs, "POST", "/task") != 3 {
		t.Fatalf("morning run %+v, requests %+v", res, reqs)
	}
	var create map[string]any
	for _, r := range reqs {
		if strings.Contains(string(r.Body), `"RL-TEST-002 (RUT950)"`) {
			_ = json.Unmarshal(r.Body, &create)
		}
	}
	if create["check_required_custom_fields"] != true || len(create["custom_fields"].([]any)) != 9 {
		t.Errorf("create body %v", create)
	}

	h.load(t, morning.Add(time.Second), dayEnd)
	h.clock.Set(dayEnd)
	res = h.run(t)
	reqs = h.fake.Requests()
	if res.Status != syncrun.StatusOK || count(reqs, "POST", "/list/") != 0 {
		t.Fatalf("end-of-day run %+v, requests %+v", res, reqs)
	}

	task := h.fake.TaskByName("RL-TEST-001 (RUT241)")
	var want struct {
		Requests []struct {
			Path string          `json:"path"`
			Body json.RawMessage `json:"body"`
		} `json:"requests"`
	}
	clickuptest.ReadJSON(t, "clickup-set-field-value.json", &want)
	sent := map[string]string{}
	for _, r := range reqs {
		if strings.HasPrefix(r.Path, "/task/"+task.ID+"/field/") {
			sent[r.Path[strings.LastIndex(r.Path, "/")+1:]] = compact(t, r.Body)
		}
	}
	for _, w := range want.Requests {
		field := w.Path[strings.LastIndex(w.Path, "/")+1:]
		switch field {
		case idDataToday, idLastSeen:
			if sent[field] != compact(t, w.Body) {
				t.Errorf("field %s: sent %s, want %s", field, sent[field], compact(t, w.Body))
			}
		case idMAC:
			// Unchanged since the morning's create: not sent again, held.
			var body struct{ Value json.RawMessage }
			_ = json.Unmarshal(w.Body, &body)
			if got := value(task, idMAC); got != string(body.Value) || sent[field] != "" {
				t.Errorf("MAC %s (sent %q), want %s held and unsent", got, sent[field], body.Value)
			}
		}
	}
	if value(task, idDataToday) != "676.8" || value(task, idLastSeen) != "1741996501000" {
		t.Errorf("task holds data %s last seen %s", value(task, idDataToday), value(task, idLastSeen))
	}
	// Last seen 23:55:01Z is 5 minutes before the clock: online, so the
	// status (online since the morning) is not written again.
	if value(task, idStatus) != optOnline || sent[idStatus] != "" {
		t.Errorf("status %s (sent %q), want online, unsent", value(task, idStatus), sent[idStatus])
	}
}

// TestJob_UnchangedRouterNoRequest checks a second run over unchanged
// routers sends nothing.
func TestJob_UnchangedRouterNoRequest(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.load(t, time.Time{}, dayEnd)
	if res := h.run(t); res.Status != syncrun.StatusOK || res.Counts.Changed != 3 {
		t.Fatalf("first run %+v", res)
	}
	h.fake.Requests()

	res := h.run(t)
	if reqs := h.fake.Requests(); len(reqs) != 0 || res.Counts.Skipped != 3 || res.Status != syncrun.StatusOK {
		t.Fatalf("second run %+v sent %+v", res, reqs)
	}
}
