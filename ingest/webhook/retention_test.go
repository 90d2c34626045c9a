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
	got, err := p.Purge(ctx)
	// 9 events of the 3 ended sessions carry a username, e-mail or name.
	if err != nil || got.Sessions != 3 || got.Events != 9 {
		t.Fatalf("Purge = %+v, %v; want 3 sessions and 9 events", got, err)
	}
	if again, err := p.Purge(ctx); err != nil || again != (webhook.Purged{}) {
		t.Fatalf("second Purge = %+v, %v; want nothing left to erase", again, err)
	}

	const withEmail = `SELECT count(*) FROM guest_sessions WHERE email IS NOT NULL AND session_id = $1`
	for session, want := range map[string]int{"s-0001": 0, "s-0002": 0, "s-0003": 0, "s-0004": 1, "s-0005": 1} {
		if n := e.count(t, withEmail, session); n != want {
			t.Errorf("session %s: %d with e-mail, want %d", session, n, want)
		}
	}
	const eventData = `SELECT count(*) FROM portal_events
		WHERE session_id = ANY($1)
			AND (username IS NOT NULL OR email IS NOT NULL OR name IS NOT NULL OR extra ? 'first_name')`
	if n := e.count(t, eventData, []string{"s-0001", "s-0002", "s-0003"}); n != 0 {
		t.Errorf("%d events of purged sessions still carry guest data", n)
	}
	if n := e.count(t, eventData, []string{"s-0004", "s-0005"}); n != 3 {
		t.Errorf("%d events of kept sessions carry guest data, want 3", n)
	}
	if n := e.count(t, "SELECT count(*) FROM portal_events WHERE extra->>'voucher' = 'V-1'"); n != 1 {
		t.Error("purge dropped an extra field that is no guest data")
	}
	if _, err := (&webhook.Retention{DB: e.pool}).Purge(ctx); err == nil {
		t.Error("Purge with no retention period erased everything instead of failing")
	}
}

// TestRetention_radiusAndRejects: the RADIUS user name of a stopped
// session and the payload of a refused delivery go once they are old
// enough; an open session and a fresh refusal keep theirs.
func TestRetention_radiusAndRejects(t *testing.T) {
	e := newEnv(t, 3)
	ctx := context.Background()
	t0 := e.clock.Now().Add(-time.Minute)
	wantAccepted(t, e, acct("Start", "old", t0, nil))
	wantAccepted(t, e, acct("Stop", "old", t0.Add(30*time.Second), nil))
	wantAccepted(t, e, acct("Start", "open", t0, nil))
	if status, _ := e.postRadius(t, acct("Start", "refused", t0, nil), []byte("wrong-secret")); status != 401 {
		t.Fatalf("bad signature answered %d, want 401", status)
	}
	if n := e.count(t, "SELECT count(*) FROM rejects WHERE source = 'radius' AND payload IS NOT NULL"); n != 1 {
		t.Fatalf("%d refused RADIUS payloads stored, want 1", n)
	}
	// The stopped session and the refusal are two hours old.
	for _, q := range []string{
		"UPDATE radius_sessions SET stopped_at = now() - interval '2 hours' WHERE session_id = 'old'",
		"UPDATE rejects SET received_at = now() - interval '2 hours'",
	} {
		if _, err := e.pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}

	got, err := (&webhook.Retention{DB: e.pool, After: time.Hour}).Purge(ctx)
	if err != nil || got.Radius != 3 || got.Rejects != 1 {
		t.Fatalf("Purge = %+v, %v; want 2 records + 1 session of RADIUS and 1 reject", got, err)
	}
	const named = `SELECT count(*) FROM radius_accounting
		WHERE session_id = $1 AND (user_name IS NOT NULL OR attributes ? 'User-Name')`
	if n := e.count(t, named, "old"); n != 0 {
		t.Errorf("%d records of the purged session keep the user name", n)
	}
	if n := e.count(t, named, "open"); n != 1 {
		t.Errorf("the open session's record lost its user name (%d left)", n)
	}
	const sessions = `SELECT count(*) FROM guest_radius_sessions WHERE user_name IS NOT NULL`
	if n := e.count(t, sessions); n != 1 {
		t.Errorf("%d RADIUS sessions keep a user name, want only the open one", n)
	}
	if n := e.count(t, "SELECT count(*) FROM rejects WHERE payload IS NULL AND reason <> ''"); n != 1 {
		t.Errorf("the old refusal kept its payload or lost its reason")
	}
}
