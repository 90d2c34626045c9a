package main

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"

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

	cli := func(args ...string) (string, int) {
		var stdout, stderr bytes.Buffer
		getenv := func(k string) string {
			if k == "DATABASE_URL" {
				return dsn
			}
			return ""
		}
		err := run(context.Background(), args, getenv, &stdout, &stderr)
		code := exitCode(err, &stderr)
		return stdout.String() + stderr.String(), code
	}

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
}
