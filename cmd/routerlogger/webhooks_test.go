package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/ingest/webhook"
	"github.com/routerlogger/routerlogger/internal/pgtest"
)

// TestServe_Webhook posts a signed portal event to a running server,
// waits for its job to derive the guest session and finds the job's
// metrics on /metrics.
func TestServe_Webhook(t *testing.T) {
	const secret = "test-secret"
	ts := startTestServer(t, pgtest.NewDatabase(t), map[string]string{"ROUTERLOGGER_PORTAL_SECRET": secret})
	body := []byte(`{"type":"guest_login","session_id":"s-srv-1","username":"u","mac_address":"02-00-00-AA-00-09",` +
		`"router_mac":"00-1E-42-A0-01-12","timestamp":"2025-03-14T08:00:06Z"}`)

	post := func(sig string) int {
		req, _ := http.NewRequest(http.MethodPost, ts.url+webhook.Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(webhook.SignatureHeader, sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post("t=1,v1=00"); code != http.StatusUnauthorized {
		t.Fatalf("bad signature: %d, want 401", code)
	}
	if code := post(webhook.Sign([]byte(secret), time.Now(), body)); code != http.StatusAccepted {
		t.Fatalf("signed event: %d, want 202", code)
	}

	deadline := time.Now().Add(20 * time.Second)
	for {
		var mac string
		err := ts.pool.QueryRow(context.Background(),
			"SELECT guest_mac FROM guest_sessions WHERE session_id = 's-srv-1'").Scan(&mac)
		if err == nil {
			if mac != "02:00:00:AA:00:09" {
				t.Fatalf("guest_mac %q", mac)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no guest session after 20 s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The attempt is counted just after its commit: wait for it.
	waitFor(t, 10*time.Second, "attempt counted", func() (bool, string) {
		v := metricValue(t, ts.url, `routerlogger_webhook_attempts_total{outcome="ok"}`)
		return v == 1, fmt.Sprint(v)
	})
	for _, series := range []string{
		`routerlogger_webhook_attempts_total{outcome="ok"}`,
		`routerlogger_webhook_processing_seconds_count`,
	} {
		if v := metricValue(t, ts.url, series); v != 1 {
			t.Errorf("%s = %v on /metrics, want 1", series, v)
		}
	}
	if v := metricValue(t, ts.url, "routerlogger_webhook_inbox_lag_seconds"); v != 0 {
		t.Errorf("routerlogger_webhook_inbox_lag_seconds = %v on /metrics, want 0", v)
	}
	if v := metricValue(t, ts.url, `routerlogger_webhook_processing_seconds_bucket{le="16.384"}`); v != 1 {
		t.Errorf("processing histogram's last bucket = %v, want 1", v)
	}
}

// TestServe_WebhookPeriodicJobs checks that serve schedules the orphan
// sweep and, when a retention is set, the guest data purge.
func TestServe_WebhookPeriodicJobs(t *testing.T) {
	ts := startTestServer(t, pgtest.NewDatabase(t), map[string]string{
		"ROUTERLOGGER_GUEST_PII_RETENTION": "24h", "ROUTERLOGGER_WEBHOOK_ORPHAN_AFTER": "1m"})
	const seed = `
		INSERT INTO portal_sessions (session_id, guest_mac, email, started_at, ended_at, events, updated_at)
		VALUES ('s-old', '02:00:00:AA:00:01', 'old@example.com', now() - interval '3 days',
			now() - interval '2 days', 1, now());
		INSERT INTO portal_events (received_at, type, session_id, guest_mac, event_at)
		VALUES (now() - interval '1 hour', 'guest_login', 's-orphan', '02:00:00:AA:00:02', now());`
	if _, err := ts.pool.Exec(context.Background(), seed); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "old guest e-mail erased and orphan processed", func() (bool, string) {
		emails := countRows(ts.pool, "SELECT count(*) FROM portal_sessions WHERE email IS NOT NULL")
		orphans := countRows(ts.pool, "SELECT count(*) FROM portal_events WHERE processed_at IS NULL")
		return emails == 0 && orphans == 0, fmt.Sprintf("%d e-mails, %d unprocessed", emails, orphans)
	})
}

// TestServe_WebhookBearer issues a portal token with the CLI and posts
// with it to a server that takes bearer tokens.
func TestServe_WebhookBearer(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ts := startTestServer(t, dsn, map[string]string{"ROUTERLOGGER_PORTAL_SECRET": "s",
		"ROUTERLOGGER_PORTAL_BEARER": "on"})
	var stdout, stderr bytes.Buffer
	getenv := func(k string) string { return map[string]string{"DATABASE_URL": dsn}[k] }
	if err := run(context.Background(), []string{"token", "create", "--portal", "lobby"}, getenv, &stdout,
		&stderr); err != nil {
		t.Fatalf("token create --portal: %v\n%s", err, stderr.String())
	}
	tok := strings.TrimSpace(stdout.String())

	body := `{"type":"guest_login","session_id":"s-bearer","mac_address":"02-00-00-AA-00-19",` +
		`"timestamp":"2025-03-14T08:00:06Z"}`
	for _, tt := range []struct {
		token string
		want  int
	}{{tok, http.StatusAccepted}, {ts.token, http.StatusForbidden}} {
		req, _ := http.NewRequest(http.MethodPost, ts.url+webhook.Path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tt.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("post with token: %d, want %d", resp.StatusCode, tt.want)
		}
	}
}
