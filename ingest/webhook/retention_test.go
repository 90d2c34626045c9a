package webhook_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/ingest/webhook"
)

// TestRetention_Purge erases e-mail and name of sessions that ended long
// enough ago, in the sessions and in their inbox events (extra included),
// and keeps them for recent and open sessions.
func TestRetention_Purge(t *testing.T) {
	e := newEnv(t, 3)
	ctx := context.Background()
	for _, line := range fixtureLines(t) {
		e.post(t, line)
	}
	named := []byte(`{"type":"voucher_redeemed","session_id":"s-0003","mac_address":"02:00:00:aa:00:03",` +
		`"timestamp":"2025-03-14T10:50:00Z","first_name":"Ann","voucher":"V-1"}`)
	if status, resp := e.post(t, named); status != http.StatusAccepted {
		t.Fatalf("event with extra fields: %d %+v", status, resp)
	}
	e.waitJobs(t)
	// s-0004 ended ten minutes ago; s-0005 never ended.
	const recent = "UPDATE portal_sessions SET ended_at = now() - interval '10 minutes' WHERE session_id = 's-0004'"
	if _, err := e.pool.Exec(ctx, recent); err != nil {
		t.Fatal(err)
	}

	p := &webhook.Retention{DB: e.pool, After: time.Hour, Log: slog.New(slog.DiscardHandler)}
	sessions, events, err := p.Purge(ctx)
	if err != nil || sessions != 3 || events != 5 {
		t.Fatalf("Purge = %d sessions, %d events, %v; want 3, 5, nil", sessions, events, err)
	}
	if s, ev, err := p.Purge(ctx); err != nil || s != 0 || ev != 0 {
		t.Fatalf("second Purge = %d, %d, %v; want nothing left to erase", s, ev, err)
	}

	const withEmail = `SELECT count(*) FROM guest_sessions WHERE email IS NOT NULL AND session_id = $1`
	for session, want := range map[string]int{"s-0001": 0, "s-0002": 0, "s-0003": 0, "s-0004": 1, "s-0005": 1} {
		if n := e.count(t, withEmail, session); n != want {
			t.Errorf("session %s: %d with e-mail, want %d", session, n, want)
		}
	}
	const eventData = `SELECT count(*) FROM portal_events
		WHERE session_id = ANY($1) AND (email IS NOT NULL OR name IS NOT NULL OR extra ? 'first_name')`
	if n := e.count(t, eventData, []string{"s-0001", "s-0002", "s-0003"}); n != 0 {
		t.Errorf("%d events of purged sessions still carry guest data", n)
	}
	if n := e.count(t, eventData, []string{"s-0004", "s-0005"}); n != 2 {
		t.Errorf("%d events of kept sessions carry guest data, want 2", n)
	}
	if n := e.count(t, "SELECT count(*) FROM portal_events WHERE extra->>'voucher' = 'V-1'"); n != 1 {
		t.Error("purge dropped an extra field that is no guest data")
	}
	if _, _, err := (&webhook.Retention{DB: e.pool}).Purge(ctx); err == nil {
		t.Error("Purge with no retention period erased everything instead of failing")
	}
}
