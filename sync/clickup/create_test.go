package clickup_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/sync/clickup"
	"github.com/routerlogger/routerlogger/sync/clickup/clickuptest"
)

// TestJob_CreateRequestShape compares the create of RL-TEST-002 with
// clickup-task-create-request.json: the same core fields and the same
// values for the inventory fields both carry.
func TestJob_CreateRequestShape(t *testing.T) {
	h := newHarness(t, harnessOpts{cfg: clickup.Config{TaskStatus: "installed",
		Tags: []string{"guest-wifi"}}})
	h.load(t, time.Time{}, dayEnd)
	h.run(t)

	type body struct {
		Name          string   `json:"name"`
		Status        string   `json:"status"`
		Tags          []string `json:"tags"`
		NotifyAll     bool     `json:"notify_all"`
		CheckRequired bool     `json:"check_required_custom_fields"`
		CustomFields  []struct {
			ID           string          `json:"id"`
			Value        json.RawMessage `json:"value"`
			ValueOptions json.RawMessage `json:"value_options"`
		} `json:"custom_fields"`
	}
	var want, got body
	clickuptest.ReadJSON(t, "clickup-task-create-request.json", &want)
	for _, r := range h.fake.Requests() {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/task") &&
			strings.Contains(string(r.Body), want.Name) {
			if err := json.Unmarshal(r.Body, &got); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got.Name != want.Name || got.Status != want.Status || !slices.Equal(got.Tags, want.Tags) ||
		got.NotifyAll != want.NotifyAll || got.CheckRequired != want.CheckRequired {
		t.Errorf("create %+v, want the core of %+v", got, want)
	}

	sent := map[string]string{}
	opts := map[string]string{}
	for _, cf := range got.CustomFields {
		sent[cf.ID], opts[cf.ID] = string(cf.Value), string(cf.ValueOptions)
	}
	for _, cf := range want.CustomFields {
		switch cf.ID {
		case idLastSeen:
			if opts[cf.ID] != `{"time":true}` {
				t.Errorf("last seen options %s", opts[cf.ID])
			}
		case idStatus, "a1b2c3d4-0000-4000-8000-000000000012":
			// Status and link depend on the time and the configuration.
		default:
			if sent[cf.ID] != string(cf.Value) {
				t.Errorf("field %s: sent %s, want %s", cf.ID, sent[cf.ID], cf.Value)
			}
		}
	}
}
