package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/routerlogger/routerlogger/sync/clickup/clickuptest"
)

// runSyncClickUp runs `routerlogger sync clickup --once` with env.
func runSyncClickUp(t *testing.T, env map[string]string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(t.Context(), []string{"sync", "clickup", "--once"},
		func(k string) string { return env[k] }, &out, &errOut)
	return exitCode(err, &errOut), out.String(), errOut.String()
}

func TestSyncClickUp_Once(t *testing.T) {
	dsn := fixtureFleet(t)
	fake := clickuptest.New(t)
	env := map[string]string{
		"DATABASE_URL":               dsn,
		"ROUTERLOGGER_CLICKUP_URL":   fake.URL(),
		"ROUTERLOGGER_CLICKUP_TOKEN": clickuptest.Token,
		"ROUTERLOGGER_GRAFANA_URL":   "https://grafana.example.com",
	}

	t.Run("not configured", func(t *testing.T) {
		code, _, errOut := runSyncClickUp(t, env)
		if code != 1 || !strings.Contains(errOut, "ROUTERLOGGER_CLICKUP_LIST_ID is not set") {
			t.Errorf("exit %d, stderr %q", code, errOut)
		}
	})

	env["ROUTERLOGGER_CLICKUP_LIST_ID"] = clickuptest.List
	code, out, errOut := runSyncClickUp(t, env)
	if code != 0 || !strings.HasPrefix(out, "clickup: ok") || !strings.Contains(out, "changed 3") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
	task := fake.TaskByName("RL-TEST-001 (RUT241)")
	link := `"https://grafana.example.com/d/routerlogger-router-detail?var-router=6000000001"`
	if task == nil || string(task.Values["a1b2c3d4-0000-4000-8000-000000000012"]) != link {
		t.Errorf("task %+v, want the dashboard link %s", task, link)
	}

	code, out, _ = runSyncClickUp(t, env)
	if code != 0 || !strings.Contains(out, "skipped 3") || len(fake.Tasks()) != 3 {
		t.Errorf("second run: exit %d, %s", code, out)
	}
}
