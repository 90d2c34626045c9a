package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/routerlogger/routerlogger/ingest/tokens"
	"github.com/routerlogger/routerlogger/ingest/webhook"
	"github.com/routerlogger/routerlogger/internal/pgtest"
)

// TestDLQ_Commands lists, shows and replays a dead-lettered event.
func TestDLQ_Commands(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ts := startTestServer(t, dsn, nil)
	const seed = `WITH e AS (
			INSERT INTO portal_events (received_at, type, session_id, guest_mac, event_at)
			VALUES (now(), 'guest_login', 's-dead', '02:00:00:AA:00:01', '2025-03-14T08:00:00Z')
			RETURNING id)
		INSERT INTO webhook_dead_letters (event_id, job_id, attempts, last_error, failed_at)
		SELECT id, 1, 3, 'boom', now() FROM e RETURNING event_id`
	var id int64
	if err := ts.pool.QueryRow(context.Background(), seed).Scan(&id); err != nil || id == 0 {
		t.Fatal(err)
	}

	cli := cliOn(dsn)

	if out, code := cli("dlq", "list"); code != 0 || !strings.Contains(out, "s-dead") || !strings.Contains(out, "boom") {
		t.Fatalf("dlq list: %d %q", code, out)
	}
	if out, code := cli("dlq", "show", "999999"); code != 1 || !strings.Contains(out, "not in the dead-letter queue") {
		t.Fatalf("dlq show unknown: %d %q", code, out)
	}
	idText := strconv.FormatInt(id, 10)
	if out, code := cli("dlq", "replay", idText); code != 0 || !strings.Contains(out, "queued again") {
		t.Fatalf("dlq replay: %d %q", code, out)
	}
	if out, code := cli("dlq", "replay", idText); code != 0 || !strings.Contains(out, "already replayed") {
		t.Fatalf("second replay: %d %q", code, out)
	}
	if out, _ := cli("dlq", "list"); strings.Contains(out, "s-dead") {
		t.Fatalf("replayed event still listed: %q", out)
	}

	other := strconv.FormatInt(seedDeadLetter(t, ts, "s-other"), 10)
	if out, code := cli("dlq", "discard", other); code != 0 || !strings.Contains(out, "discarded") {
		t.Fatalf("dlq discard: %d %q", code, out)
	}
	if out, code := cli("dlq", "discard", other); code != 0 || !strings.Contains(out, "already discarded") {
		t.Fatalf("second discard: %d %q", code, out)
	}
	if out, code := cli("dlq", "replay", other); code != 1 || !strings.Contains(out, "--force") {
		t.Fatalf("replay of a discarded event: %d %q", code, out)
	}
	if out, code := cli("dlq", "replay", other, "--force"); code != 0 || !strings.Contains(out, "queued again") {
		t.Fatalf("forced replay, flag after the id: %d %q", code, out)
	}
}

// seedDeadLetter stores an inbox event of session with a dead letter and
// returns its id.
func seedDeadLetter(t *testing.T, ts *testServer, session string) int64 {
	t.Helper()
	const seed = `WITH e AS (
			INSERT INTO portal_events (received_at, type, session_id, guest_mac, event_at)
			VALUES (now(), 'guest_login', $1, '02:00:00:AA:00:01', '2025-03-14T08:00:00Z')
			RETURNING id)
		INSERT INTO webhook_dead_letters (event_id, job_id, attempts, last_error, failed_at)
		SELECT id, 1, 3, 'boom', now() FROM e RETURNING event_id`
	var id int64
	if err := ts.pool.QueryRow(context.Background(), seed, session).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestDLQ_AdminHTTP drives the admin endpoints of a running server with an
// admin token, and checks that other tokens are refused.
func TestDLQ_AdminHTTP(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ts := startTestServer(t, dsn, nil)
	token := func(args ...string) (string, error) {
		var stdout, stderr bytes.Buffer
		getenv := func(k string) string { return map[string]string{"DATABASE_URL": dsn}[k] }
		err := run(context.Background(), append([]string{"token", "create"}, args...), getenv, &stdout, &stderr)
		return strings.TrimSpace(stdout.String()), err
	}
	if _, err := token("--admin", "--fleet"); err == nil {
		t.Error("token create --admin --fleet issued a token")
	}
	admin, err := token("--admin", "--note", "oncall")
	if err != nil || !strings.HasPrefix(admin, tokens.Prefix) {
		t.Fatalf("token create --admin: %q %v", admin, err)
	}
	id := seedDeadLetter(t, ts, "s-admin")
	path := fmt.Sprintf("%s/%d", webhook.AdminPath, id)

	call := func(method, path, token string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.url+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}

	tests := []struct {
		name, method, path, token string
		want                      int
		field, value              string
	}{
		{"no token", "GET", webhook.AdminPath, "", 401, "", ""},
		{"fleet token", "GET", webhook.AdminPath, ts.token, 403, "", ""},
		{"fleet token replay", "POST", path + "/replay", ts.token, 403, "", ""},
		{"unknown token", "GET", webhook.AdminPath, "rl_nope", 401, "", ""},
		{"list", "GET", webhook.AdminPath, admin, 200, "", ""},
		{"one", "GET", path, admin, 200, "session_id", "s-admin"},
		{"bad id", "GET", webhook.AdminPath + "/x", admin, 400, "", ""},
		{"unknown id", "GET", webhook.AdminPath + "/999999", admin, 404, "", ""},
		{"discard", "POST", path + "/discard", admin, 200, "status", "discarded"},
		{"discard again", "POST", path + "/discard", admin, 200, "status", "already discarded"},
		{"gone from the queue", "GET", path, admin, 404, "", ""},
		{"replay refused", "POST", path + "/replay", admin, 409, "", ""},
		{"forced replay", "POST", path + "/replay?force=true", admin, 200, "status", "queued"},
		{"replay again", "POST", path + "/replay", admin, 200, "status", "already replayed"},
	}
	for _, tt := range tests {
		code, body := call(tt.method, tt.path, tt.token)
		if code != tt.want || (tt.field != "" && body[tt.field] != tt.value) {
			t.Errorf("%s: %s %s = %d %v; want %d with %s=%q", tt.name, tt.method, tt.path, code, body,
				tt.want, tt.field, tt.value)
		}
		if tt.name == "list" {
			if dl, _ := body["dead_letters"].([]any); len(dl) != 1 {
				t.Errorf("list: %v, want the one dead letter", body)
			}
		}
	}
}
