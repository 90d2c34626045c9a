package webhook_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/routerlogger/routerlogger/ingest/webhook"
)

// insertOld stores an inbox event of session received age ago, without a
// job, and returns its id.
func insertOld(t *testing.T, e *env, session string, age time.Duration) int64 {
	t.Helper()
	const q = `INSERT INTO portal_events (received_at, type, session_id, guest_mac, event_at)
		VALUES (now() - $2::interval, 'guest_login', $1, '02:00:00:AA:00:05', '2025-03-14T08:00:00Z')
		RETURNING id`
	var id int64
	if err := e.pool.QueryRow(context.Background(), q, session, age).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// enqueueLater queues the job of an event for an hour from now, so that
// no worker takes it during the test, and returns the job id.
func enqueueLater(t *testing.T, e *env, id int64, session string) int64 {
	t.Helper()
	res, err := e.rt.Client().Insert(context.Background(),
		webhook.ProcessArgs{EventID: id, SessionID: session},
		&river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return res.Job.ID
}

// TestSweeper_Sweep queues again exactly the events nothing would process:
// one whose job row was deleted and one whose job was discarded without a
// dead letter, and leaves young events, events with a live job and
// dead-lettered ones alone.
func TestSweeper_Sweep(t *testing.T) {
	e := newEnv(t, 3)
	ctx := context.Background()
	const old = 10 * time.Minute

	deleted := insertOld(t, e, "s-deleted", old)
	job := enqueueLater(t, e, deleted, "s-deleted")
	if _, err := e.pool.Exec(ctx, "DELETE FROM river_job WHERE id = $1", job); err != nil {
		t.Fatal(err)
	}
	discarded := insertOld(t, e, "s-discarded", old)
	job = enqueueLater(t, e, discarded, "s-discarded")
	const discard = "UPDATE river_job SET state = 'discarded', finalized_at = now() WHERE id = $1"
	if _, err := e.pool.Exec(ctx, discard, job); err != nil {
		t.Fatal(err)
	}
	young := insertOld(t, e, "s-young", time.Minute)
	live := insertOld(t, e, "s-live", old)
	enqueueLater(t, e, live, "s-live")
	dead := insertOld(t, e, "s-dead", old)
	const letter = `INSERT INTO webhook_dead_letters (event_id, job_id, attempts, last_error, failed_at)
		VALUES ($1, 1, 3, 'boom', now())`
	if _, err := e.pool.Exec(ctx, letter, dead); err != nil {
		t.Fatal(err)
	}

	s := &webhook.Sweeper{DB: e.pool, Jobs: e.rt.Client()}
	if n, err := s.Sweep(ctx); err != nil || n != 2 {
		t.Fatalf("Sweep = %d, %v; want 2 orphans queued", n, err)
	}
	if n, err := s.Sweep(ctx); err != nil || n != 0 {
		t.Fatalf("second Sweep = %d, %v; want 0: the queued jobs are live", n, err)
	}
	waitProcessed(t, e, deleted, discarded)

	const unprocessed = "SELECT count(*) FROM portal_events WHERE processed_at IS NULL AND id = ANY($1)"
	if n := e.count(t, unprocessed, []int64{young, live, dead}); n != 3 {
		t.Errorf("%d of the young, live and dead-lettered events left unprocessed, want 3", n)
	}
	if _, ok := e.sessions(t)["s-deleted"]; !ok {
		t.Error("swept event did not derive its session")
	}
}

// waitProcessed waits until the events are processed.
func waitProcessed(t *testing.T, e *env, ids ...int64) {
	t.Helper()
	const q = "SELECT count(*) FROM portal_events WHERE processed_at IS NOT NULL AND id = ANY($1)"
	deadline := time.Now().Add(20 * time.Second)
	for e.count(t, q, ids) != len(ids) {
		if time.Now().After(deadline) {
			t.Fatalf("events %v not all processed after 20 s", ids)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
