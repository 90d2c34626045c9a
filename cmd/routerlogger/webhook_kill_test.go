package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/ingest/webhook"
	"github.com/routerlogger/routerlogger/internal/db"
	"github.com/routerlogger/routerlogger/internal/pgtest"
)

// killRescueAfter is the rescue delay of the SIGKILL test's binary, linked
// in below the production floor of 2 minutes.
const killRescueAfter = "20s"

// buildKillBinary builds the binary with the rescue floor lowered.
func buildKillBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "routerlogger")
	cmd := exec.Command("go", "build", "-ldflags", "-X main.rescueFloor="+killRescueAfter, "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// portalEvent is one delivery of the webhook load.
type portalEvent struct {
	session, typ, mac string
	at                time.Time
}

func (e portalEvent) body() []byte {
	return fmt.Appendf(nil, `{"type":%q,"session_id":%q,"mac_address":%q,"timestamp":%q}`,
		e.typ, e.session, e.mac, e.at.Format(time.RFC3339))
}

// webhookLoad posts, from each client, login and logout events of its own
// sessions in order until a post fails; it keeps what was acknowledged.
type webhookLoad struct {
	mu       sync.Mutex
	sent     int
	acked    []portalEvent
	inFlight []portalEvent // the event each stopped client got no answer for
}

func (l *webhookLoad) run(ctx context.Context, base string, secret []byte, clients int,
	wg *sync.WaitGroup) {
	start := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				ev := portalEvent{session: fmt.Sprintf("k-%d-%d", c, i/2), typ: webhook.TypeGuestLogin,
					mac: fmt.Sprintf("02:00:%02X:%02X:%02X:00", c, (i/2)>>8&0xff, (i/2)&0xff),
					at:  start.Add(time.Duration(i/2) * time.Minute)}
				if i%2 == 1 {
					ev.typ, ev.at = webhook.TypeGuestLogout, ev.at.Add(30*time.Second)
				}
				if !l.post(ctx, base, secret, ev) {
					return
				}
			}
		}()
	}
}

// post delivers ev and reports whether it was acknowledged (2xx).
func (l *webhookLoad) post(ctx context.Context, base string, secret []byte, ev portalEvent) bool {
	body := ev.body()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+webhook.Path, bytes.NewReader(body))
	req.Header.Set(webhook.SignatureHeader, webhook.Sign(secret, time.Now(), body))
	l.mu.Lock()
	l.sent++
	l.mu.Unlock()

	resp, err := http.DefaultClient.Do(req)
	ok := err == nil && resp.StatusCode/100 == 2
	if err == nil {
		resp.Body.Close()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if ok {
		l.acked = append(l.acked, ev)
	} else {
		l.inFlight = append(l.inFlight, ev)
	}
	return ok
}

// TestServe_WebhookSIGKILL kills serve with SIGKILL during a burst of
// signed portal deliveries and starts it again: every acknowledged event
// is processed, each by one job that completed, none dead-lettered, and
// the sessions equal those derived from the acknowledged events (plus an
// unacknowledged event that was committed just before the kill).
func TestServe_WebhookSIGKILL(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	bin := buildKillBinary(t)
	secret := []byte("kill-secret")
	env := []string{"DATABASE_URL=" + dsn, "ROUTERLOGGER_HTTP_ADDR=127.0.0.1:0",
		"ROUTERLOGGER_TIMESCALE=off", "ROUTERLOGGER_PORTAL_SECRET=" + string(secret),
		"ROUTERLOGGER_JOBS_RESCUE_AFTER=" + killRescueAfter}
	first := startServe(t, bin, env)

	ctx := context.Background()
	pool, err := db.Open(ctx, dsn, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	var load webhookLoad
	var wg sync.WaitGroup
	load.run(ctx, first.base, secret, 16, &wg)
	waitFor(t, 60*time.Second, "webhook load under way", func() (bool, string) {
		stored := countRows(pool, "SELECT count(*) FROM portal_events")
		done := countRows(pool, "SELECT count(*) FROM portal_events WHERE processed_at IS NOT NULL")
		return stored >= 1500 && done >= 300, fmt.Sprintf("%d stored, %d processed", stored, done)
	})
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.cmd.Wait()
	killed := time.Now()
	wg.Wait() // each client stops at its first failed post
	running := countRows(pool, "SELECT count(*) FROM river_job WHERE kind = 'portal_event' AND state = 'running'")
	atKill := countRows(pool, "SELECT count(*) FROM portal_events WHERE processed_at IS NOT NULL")

	second := startServe(t, bin, env)
	const live = `SELECT count(*) FROM river_job WHERE kind = 'portal_event'
		AND state IN ('available', 'pending', 'running', 'retryable', 'scheduled')`
	waitFor(t, 150*time.Second, "every stored event processed", func() (bool, string) {
		n := countRows(pool, "SELECT count(*) FROM portal_events WHERE processed_at IS NULL")
		j := countRows(pool, live)
		return n == 0 && j == 0, fmt.Sprintf("%d unprocessed, %d live jobs", n, j)
	})
	recovered := time.Since(killed)

	checkWebhookKill(t, pool, &load)
	t.Logf("webhook SIGKILL: %d delivered, %d acknowledged, %d stored, %d processed "+
		"(%d at the kill, %d jobs left running, %d jobs rescued); all done %.0f s after the kill",
		load.sent, len(load.acked), countRows(pool, "SELECT count(*) FROM portal_events"),
		countRows(pool, "SELECT count(*) FROM portal_events WHERE processed_at IS NOT NULL"),
		atKill, running, countRows(pool, "SELECT count(*) FROM river_job WHERE kind = 'portal_event' AND attempt > 1"),
		recovered.Seconds())

	if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := second.cmd.Wait(); err != nil {
		t.Fatalf("restarted serve exited with %v on SIGTERM\n%s", err, second.log())
	}
}

// checkWebhookKill compares the inbox, the jobs and the sessions with the
// acknowledged events.
func checkWebhookKill(t *testing.T, pool *pgxpool.Pool, load *webhookLoad) {
	t.Helper()
	stored := map[string]bool{}
	rows, err := pool.Query(context.Background(), "SELECT type || '/' || session_id FROM portal_events")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		stored[k] = true
	}
	rows.Close()

	truth := append([]portalEvent(nil), load.acked...)
	for _, ev := range load.acked {
		if !stored[ev.typ+"/"+ev.session] {
			t.Errorf("acknowledged %s of %s lost", ev.typ, ev.session)
		}
	}
	for _, ev := range load.inFlight {
		if stored[ev.typ+"/"+ev.session] {
			truth = append(truth, ev) // committed, but the answer died with the process
		}
	}
	if len(stored) != len(truth) {
		t.Errorf("%d events stored, want %d acknowledged or committed in flight", len(stored), len(truth))
	}

	const jobs = `SELECT count(*) FROM portal_events e LEFT JOIN (
			SELECT (args->>'event_id')::bigint AS event_id, count(*) AS n,
				count(*) FILTER (WHERE state = 'completed') AS completed
			FROM river_job WHERE kind = 'portal_event' GROUP BY 1) j ON j.event_id = e.id
		WHERE j.n IS DISTINCT FROM 1 OR j.completed IS DISTINCT FROM 1`
	if n := countRows(pool, jobs); n != 0 {
		t.Errorf("%d events without exactly one completed job", n)
	}
	if n := countRows(pool, "SELECT count(*) FROM webhook_dead_letters"); n != 0 {
		t.Errorf("%d dead letters after the kill", n)
	}
	compareKillSessions(t, pool, truth)
}

// compareKillSessions checks guest_sessions against sessions derived from
// the truth.
func compareKillSessions(t *testing.T, pool *pgxpool.Pool, truth []portalEvent) {
	t.Helper()
	type span struct{ start, end *time.Time }
	want := map[string]span{}
	for _, ev := range truth {
		s, at := want[ev.session], ev.at
		if ev.typ == webhook.TypeGuestLogin {
			s.start = &at
		} else {
			s.end = &at
		}
		want[ev.session] = s
	}

	rows, err := pool.Query(context.Background(), "SELECT session_id, started_at, ended_at FROM guest_sessions")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := 0
	for rows.Next() {
		var id string
		var s span
		if err := rows.Scan(&id, &s.start, &s.end); err != nil {
			t.Fatal(err)
		}
		got++
		w, ok := want[id]
		if !ok || !sameTime(s.start, w.start) || !sameTime(s.end, w.end) {
			t.Errorf("session %s: started %v ended %v; want %v %v (known %v)", id, s.start, s.end,
				w.start, w.end, ok)
		}
	}
	if got != len(want) {
		t.Errorf("%d sessions, want %d", got, len(want))
	}
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
