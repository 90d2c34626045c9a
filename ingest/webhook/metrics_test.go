package webhook_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/routerlogger/routerlogger/ingest/webhook"
)

// TestMetrics counts the attempts of good and poisoned events by outcome,
// times every attempt, and reads the inbox lag.
func TestMetrics(t *testing.T) {
	const attempts = 3
	e := newEnv(t, attempts)
	ctx := context.Background()
	if _, err := e.pool.Exec(ctx, poisonTrigger); err != nil {
		t.Fatal(err)
	}
	lines := fixtureLines(t)
	accepted := 0
	for _, line := range lines {
		if status, _ := e.post(t, line); status == http.StatusAccepted {
			accepted++
		}
	}
	poison := []byte(`{"type":"guest_login","session_id":"poison","mac_address":"02:00:00:aa:00:66",` +
		`"timestamp":"2025-03-14T08:00:00Z"}`)
	if status, resp := e.post(t, poison); status != http.StatusAccepted {
		t.Fatalf("poison delivery: %d %+v", status, resp)
	}
	e.waitJobs(t)

	want := `
# HELP routerlogger_webhook_attempts_total Portal event job attempts by outcome (ok, retry, dead_letter, cancel).
# TYPE routerlogger_webhook_attempts_total counter
routerlogger_webhook_attempts_total{outcome="cancel"} 0
routerlogger_webhook_attempts_total{outcome="dead_letter"} 1
routerlogger_webhook_attempts_total{outcome="ok"} ` + itoa(accepted) + `
routerlogger_webhook_attempts_total{outcome="retry"} ` + itoa(attempts-1) + `
`
	if err := testutil.GatherAndCompare(e.reg, strings.NewReader(want),
		"routerlogger_webhook_attempts_total"); err != nil {
		t.Error(err)
	}
	if n := histogramCount(t, e); n != uint64(accepted+attempts) {
		t.Errorf("processing histogram counted %d attempts, want %d", n, accepted+attempts)
	}

	lag := webhook.InboxLagCollector(e.pool, nil)
	if got := testutil.ToFloat64(lag); got != 0 {
		t.Errorf("inbox lag %v with every event processed or dead-lettered, want 0", got)
	}
	const stuck = `INSERT INTO portal_events (received_at, type, session_id, guest_mac, event_at)
		VALUES (now() - interval '1 hour', 'guest_login', 's-stuck', '02:00:00:AA:00:07', now())`
	if _, err := e.pool.Exec(ctx, stuck); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(lag); got < 3600 || got > 3700 {
		t.Errorf("inbox lag %v with an event waiting an hour, want about 3600", got)
	}
}

func histogramCount(t *testing.T, e *env) uint64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "routerlogger_webhook_processing_seconds" {
			return mf.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	t.Fatal("no routerlogger_webhook_processing_seconds")
	return 0
}

func itoa(n int) string { return strconv.Itoa(n) }
