package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/routerlogger/routerlogger/ingest/webhook"
)

// poisonTrigger makes every session write of session 'poison' fail, as a
// bad deploy or a broken row would.
const poisonTrigger = `
CREATE FUNCTION test_poison() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.session_id = 'poison' THEN
        RAISE EXCEPTION 'test poison: session % refused', NEW.session_id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER test_poison BEFORE INSERT OR UPDATE ON portal_sessions
    FOR EACH ROW EXECUTE FUNCTION test_poison();`

func TestDLQ_Replay(t *testing.T) {
	const attempts = 3
	e := newEnv(t, attempts)
	ctx := context.Background()
	if _, err := e.pool.Exec(ctx, poisonTrigger); err != nil {
		t.Fatal(err)
	}

	poison := []byte(`{"type":"guest_login","session_id":"poison","mac_address":"02:00:00:aa:00:66",` +
		`"router_mac":"00:1E:42:A0:01:10","timestamp":"2025-03-14T08:00:00Z"}`)
	status, resp := e.post(t, poison)
	if status != http.StatusAccepted {
		t.Fatalf("poison delivery: %d %+v", status, resp)
	}
	id := resp.EventID
	for _, line := range fixtureLines(t) {
		e.post(t, line)
	}
	e.waitJobs(t)

	t.Run("dead-lettered while others flow", func(t *testing.T) {
		if n := len(e.sessions(t)); n != 5 {
			t.Errorf("%d sessions, want the 5 fixture sessions", n)
		}
		dl, err := e.dlq.List(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(dl) != 1 || dl[0].EventID != id || dl[0].Attempts != attempts ||
			!strings.Contains(dl[0].LastError, "test poison") {
			t.Fatalf("dead letters %+v, want event %d after %d attempts with its error", dl, id,
				attempts)
		}
		if got := testutil.ToFloat64(e.dlq.Collector()); got != 1 {
			t.Errorf("routerlogger_dlq_depth = %v, want 1", got)
		}
		if n := e.count(t, "SELECT count(*) FROM river_job WHERE state = 'discarded'"); n != 1 {
			t.Errorf("%d discarded jobs, want 1", n)
		}
	})

	if _, err := e.pool.Exec(ctx, "DROP TRIGGER test_poison ON portal_sessions"); err != nil {
		t.Fatal(err)
	}

	t.Run("replay after the fix", func(t *testing.T) {
		for i, want := range []bool{true, false} {
			got, err := e.dlq.Replay(ctx, id, false)
			if err != nil || got != want {
				t.Fatalf("Replay #%d = %v, %v; want %v, nil", i+1, got, err, want)
			}
		}
		e.waitJobs(t)

		if s, ok := e.sessions(t)["poison"]; !ok || s.StartedAt == nil ||
			!s.StartedAt.Equal(time.Date(2025, 3, 14, 8, 0, 0, 0, time.UTC)) {
			t.Errorf("poison session after replay = %v (present %v)", s, ok)
		}
		const done = `SELECT count(*) FROM river_job
			WHERE state = 'completed' AND (args->>'event_id')::bigint = $1`
		if n := e.count(t, done, id); n != 1 {
			t.Errorf("event %d completed %d times, want once", id, n)
		}
		depth, err := e.dlq.Depth(ctx)
		if err != nil || depth != 0 {
			t.Errorf("Depth = %d, %v; want 0", depth, err)
		}
	})

	t.Run("unknown event", func(t *testing.T) {
		if _, err := e.dlq.Replay(ctx, 999999, false); !errors.Is(err, webhook.ErrNotDeadLettered) {
			t.Errorf("Replay of an unknown event = %v, want ErrNotDeadLettered", err)
		}
	})
}

// seedDeadLetter stores an inbox event of session with a dead letter, as
// a final failure leaves it, and returns the event id.
func seedDeadLetter(t *testing.T, e *env, session string) int64 {
	t.Helper()
	const seed = `WITH ev AS (
			INSERT INTO portal_events (received_at, type, session_id, guest_mac, event_at)
			VALUES (now(), 'guest_login', $1, '02:00:00:AA:00:01', '2025-03-14T08:00:00Z')
			RETURNING id)
		INSERT INTO webhook_dead_letters (event_id, job_id, attempts, last_error, failed_at)
		SELECT id, 1, 3, 'boom', now() FROM ev RETURNING event_id`
	var id int64
	if err := e.pool.QueryRow(context.Background(), seed, session).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestDLQ_Discard(t *testing.T) {
	e := newEnv(t, 3)
	ctx := context.Background()
	kept, gone := seedDeadLetter(t, e, "s-kept"), seedDeadLetter(t, e, "s-gone")

	for i, want := range []bool{true, false} {
		if got, err := e.dlq.Discard(ctx, gone); err != nil || got != want {
			t.Fatalf("Discard #%d = %v, %v; want %v, nil", i+1, got, err, want)
		}
	}
	if got := testutil.ToFloat64(e.dlq.Collector()); got != 1 {
		t.Errorf("routerlogger_dlq_depth = %v after a discard, want 1", got)
	}
	if _, err := e.dlq.Get(ctx, gone); !errors.Is(err, webhook.ErrNotDeadLettered) {
		t.Errorf("Get of a discarded letter = %v, want ErrNotDeadLettered", err)
	}
	if d, err := e.dlq.Get(ctx, kept); err != nil || d.SessionID != "s-kept" || d.LastError != "boom" {
		t.Errorf("Get = %+v, %v", d, err)
	}

	t.Run("replay refused unless forced", func(t *testing.T) {
		if _, err := e.dlq.Replay(ctx, gone, false); !errors.Is(err, webhook.ErrDiscarded) {
			t.Fatalf("Replay of a discarded letter = %v, want ErrDiscarded", err)
		}
		if got, err := e.dlq.Replay(ctx, gone, true); err != nil || !got {
			t.Fatalf("forced Replay = %v, %v; want true, nil", got, err)
		}
		if got, err := e.dlq.Replay(ctx, gone, true); err != nil || got {
			t.Fatalf("second forced Replay = %v, %v; want false, nil", got, err)
		}
		e.waitJobs(t)
		if _, ok := e.sessions(t)["s-gone"]; !ok {
			t.Error("forced replay did not derive the session")
		}
	})

	t.Run("a replayed letter cannot be discarded", func(t *testing.T) {
		if _, err := e.dlq.Discard(ctx, gone); !errors.Is(err, webhook.ErrNotDeadLettered) {
			t.Errorf("Discard of a replayed letter = %v, want ErrNotDeadLettered", err)
		}
		if _, err := e.dlq.Discard(ctx, 999999); !errors.Is(err, webhook.ErrNotDeadLettered) {
			t.Errorf("Discard of an unknown event = %v, want ErrNotDeadLettered", err)
		}
	})
}
