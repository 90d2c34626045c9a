package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/routerlogger/routerlogger/ingest/webhook"
	"github.com/routerlogger/routerlogger/internal/testkit"
)

func TestHandler_fixture(t *testing.T) {
	e := newEnv(t, 3)
	lines := fixtureLines(t)
	want := expectedSessions(t)

	var exp struct {
		Lines      int   `json:"lines_in_file"`
		Unique     int   `json:"unique_events_after_dedup"`
		Duplicates []int `json:"duplicate_lines"`
	}
	readJSON(t, "captive-portal-expected.json", &exp)
	if len(lines) != exp.Lines {
		t.Fatalf("fixture has %d lines, expected file says %d", len(lines), exp.Lines)
	}
	dup := map[int]bool{}
	for _, n := range exp.Duplicates {
		dup[n] = true
	}

	for round := 1; round <= 2; round++ {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			for i, line := range lines {
				status, resp := e.post(t, line)
				wantStatus := http.StatusAccepted
				if round == 2 || dup[i+1] {
					wantStatus = http.StatusOK
				}
				if status != wantStatus {
					t.Errorf("line %d: status %d (%+v), want %d", i+1, status, resp, wantStatus)
				}
			}
			e.waitJobs(t)
			compareSessions(t, e.sessions(t), want)
		})
	}

	t.Run("inbox and jobs", func(t *testing.T) {
		if n := e.count(t, "SELECT count(*) FROM portal_events"); n != exp.Unique {
			t.Errorf("%d inbox events, want %d", n, exp.Unique)
		}
		jobs := e.count(t, "SELECT count(*) FROM river_job WHERE kind = $1 AND state = 'completed'",
			webhook.JobKind)
		if jobs != exp.Unique {
			t.Errorf("%d completed jobs, want one per unique event (%d)", jobs, exp.Unique)
		}
		if n := e.count(t, "SELECT count(*) FROM portal_events WHERE processed_at IS NULL"); n != 0 {
			t.Errorf("%d inbox events not processed", n)
		}
		if n := e.count(t, "SELECT count(*) FROM rejects"); n != 0 {
			t.Errorf("%d rejects from valid deliveries", n)
		}
	})

	t.Run("reader role", func(t *testing.T) {
		ctx := context.Background()
		tx, err := e.pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		if _, err := tx.Exec(ctx, "SET LOCAL ROLE routerlogger_reader"); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM guest_sessions").Scan(&n); err != nil ||
			n != len(want) {
			t.Errorf("reader sees %d guest sessions (%v), want %d", n, err, len(want))
		}
	})
}

func TestHandler_extraFieldsKept(t *testing.T) {
	e := newEnv(t, 3)
	body := []byte(`{"type":"voucher_redeemed","session_id":"s-v","mac_address":"02:00:00:aa:00:09",` +
		`"router_mac":"00:1E:42:A0:01:10","timestamp":"2025-03-14T08:00:00Z","voucher":"ABC-123",` +
		`"portal":{"site":7}}`)
	if status, resp := e.post(t, body); status != http.StatusAccepted {
		t.Fatalf("status %d (%+v), want 202", status, resp)
	}
	e.waitJobs(t)

	var extra map[string]any
	err := e.pool.QueryRow(context.Background(),
		"SELECT extra FROM portal_events WHERE session_id = 's-v'").Scan(&extra)
	if err != nil {
		t.Fatal(err)
	}
	if extra["voucher"] != "ABC-123" || extra["portal"] == nil {
		t.Errorf("extra = %v, want voucher and portal kept", extra)
	}
	got := e.sessions(t)["s-v"]
	if got.StartedAt != nil || got.EndedAt != nil || !got.Matched {
		t.Errorf("voucher-only session = %s, want matched, neither started nor ended", got)
	}
}

// expectedSessions reads the sessions of captive-portal-expected.json.
func expectedSessions(t *testing.T) map[string]guestSession {
	t.Helper()
	var exp struct {
		Sessions map[string]guestSession `json:"sessions"`
	}
	readJSON(t, "captive-portal-expected.json", &exp)
	for id, s := range exp.Sessions {
		s.Matched = s.RouterSerial != nil
		normalise(&s)
		exp.Sessions[id] = s
	}
	return exp.Sessions
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testkit.FixturesDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// genEvent is one generated delivery and its truth.
type genEvent struct {
	typ     string
	session string
	mac     [6]byte
	router  string
	at      time.Time
}

// body renders ev with a MAC spelling and time zone chosen by style, so
// that duplicates differ in bytes but not in content.
func (ev genEvent) body(style int) []byte {
	m := ev.mac
	var guest string
	switch style % 4 {
	case 0:
		guest = fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
	case 1:
		guest = fmt.Sprintf("%02X-%02X-%02X-%02X-%02X-%02X", m[0], m[1], m[2], m[3], m[4], m[5])
	case 2:
		guest = fmt.Sprintf("%02x%02x.%02x%02x.%02x%02x", m[0], m[1], m[2], m[3], m[4], m[5])
	default:
		guest = fmt.Sprintf("%02X%02X%02X%02X%02X%02X", m[0], m[1], m[2], m[3], m[4], m[5])
	}
	ts := ev.at.Format(time.RFC3339)
	if style%3 == 1 {
		ts = ev.at.In(time.FixedZone("", 3600)).Format(time.RFC3339)
	} else if style%3 == 2 {
		ts = ev.at.Format("2006-01-02 15:04:05")
	}
	b, _ := json.Marshal(map[string]any{"type": ev.typ, "session_id": ev.session,
		"mac_address": guest, "router_mac": ev.router, "timestamp": ts, "style": style})
	return b
}

// generate returns unique events over sessions sessions, perSession each,
// and the sessions they must produce.
func generate(rng *rand.Rand, sessions, perSession int) ([]genEvent, map[string]guestSession) {
	types := []string{webhook.TypeRegistrationCompleted, webhook.TypeFreeAccessGranted,
		webhook.TypeGuestLogin, webhook.TypeGuestLogout, webhook.TypeSessionExpired,
		"voucher_redeemed"}
	base := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	var events []genEvent
	want := map[string]guestSession{}

	for s := range sessions {
		id := fmt.Sprintf("load-%03d", s)
		r := fixtureRouters[s%4%3]
		router, serial := r.wlan, &r.serial
		if s%4 == 3 {
			router, serial = "00:1E:42:FF:00:01", nil // not in the fleet
		}
		mac := [6]byte{0x02, 0, 0, 0xbb, byte(s >> 8), byte(s)}
		w := guestSession{RouterSerial: serial, GuestMAC: fmt.Sprintf(
			"02:00:00:BB:%02X:%02X", mac[4], mac[5]), Matched: serial != nil}

		for i := range perSession {
			// Distinct seconds keep every event unique within its session.
			at := base.Add(time.Duration(s)*time.Hour + time.Duration(i*7+rng.IntN(7))*time.Second)
			ev := genEvent{typ: types[rng.IntN(len(types))], session: id, mac: mac, router: router,
				at: at}
			events = append(events, ev)
			track(&w, ev)
		}
		want[id] = w
	}
	return events, want
}

// track applies the session rule to the expectation, one event at a time.
func track(w *guestSession, ev genEvent) {
	at := ev.at
	switch ev.typ {
	case webhook.TypeRegistrationCompleted, webhook.TypeFreeAccessGranted, webhook.TypeGuestLogin:
		if w.StartedAt == nil || at.Before(*w.StartedAt) {
			w.StartedAt = &at
		}
	case webhook.TypeGuestLogout, webhook.TypeSessionExpired:
		if w.EndedAt == nil || at.After(*w.EndedAt) {
			typ := ev.typ
			w.EndedAt, w.EndReason = &at, &typ
		}
	}
}

func TestHandler_concurrent(t *testing.T) {
	const deliveries, sessions, dupShare = 1000, 50, 0.2
	e := newEnv(t, 5)
	rng := rand.New(rand.NewPCG(6, 2026))

	unique := int(deliveries * (1 - dupShare))
	events, want := generate(rng, sessions, unique/sessions)
	type delivery struct{ body []byte }
	var all []delivery
	for i, ev := range events {
		all = append(all, delivery{ev.body(i)})
	}
	for len(all) < deliveries {
		ev := events[rng.IntN(len(events))]
		all = append(all, delivery{ev.body(rng.IntN(12))})
	}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })

	var accepted, dups, other atomic.Int64
	start := time.Now()
	work := make(chan delivery)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for d := range work {
				switch status, _ := e.post(t, d.body); status {
				case http.StatusAccepted:
					accepted.Add(1)
				case http.StatusOK:
					dups.Add(1)
				default:
					other.Add(1)
				}
			}
		})
	}
	for _, d := range all {
		work <- d
	}
	close(work)
	wg.Wait()
	posted := time.Since(start)
	e.waitJobs(t)
	settled := time.Since(start)

	t.Logf("%d deliveries over %d sessions: %d accepted, %d duplicates, %d other; "+
		"posted in %s, all jobs done after %s", len(all), sessions, accepted.Load(), dups.Load(),
		other.Load(), posted.Round(time.Millisecond), settled.Round(time.Millisecond))
	if accepted.Load() != int64(len(events)) || dups.Load() != int64(len(all)-len(events)) {
		t.Errorf("accepted %d, duplicates %d; want %d and %d", accepted.Load(), dups.Load(),
			len(events), len(all)-len(events))
	}
	if n := e.count(t, "SELECT count(*) FROM portal_events"); n != len(events) {
		t.Errorf("%d inbox events, want %d", n, len(events))
	}
	if n := e.count(t, "SELECT count(*) FROM river_job WHERE state = 'completed'"); n != len(events) {
		t.Errorf("%d completed jobs, want %d", n, len(events))
	}
	compareSessions(t, e.sessions(t), want)
}

func TestHandler_refusals(t *testing.T) {
	e := newEnv(t, 3)
	good := fixtureLines(t)[0]
	now := e.clock.Now()
	big := []byte(`{"type":"guest_login","pad":"` + strings.Repeat("x", webhook.DefaultMaxBody) + `"}`)

	tests := []struct {
		name   string
		body   []byte
		sig    string
		status int
		field  string
		reason string
	}{
		{"missing signature", good, "", 401, "", "missing X-RouterLogger-Signature"},
		{"bad signature", good, webhook.Sign([]byte("wrong"), now, good), 401, "",
			"no v1 signature matches"},
		{"altered body", []byte(strings.Replace(string(good), "s-0001", "s-9999", 1)),
			webhook.Sign(testSecret, now, good), 401, "", "no v1 signature matches"},
		{"old timestamp", good, webhook.Sign(testSecret, now.Add(-6*time.Minute), good), 401, "",
			"outside the 5m0s window"},
		{"future timestamp", good, webhook.Sign(testSecret, now.Add(6*time.Minute), good), 401, "",
			"outside the 5m0s window"},
		{"garbled header", good, "v1=abc", 401, "", "must be t=<unix seconds>"},
		{"malformed body", []byte(`{"type":"guest_login",`), "", 400, "", "not valid JSON"},
		{"array body", []byte(`[1,2]`), "", 400, "", "want an object"},
		{"missing session", []byte(`{"type":"guest_login","mac_address":"02:00:00:aa:00:01",` +
			`"timestamp":"2025-03-14T08:00:05Z"}`), "", 422, "session_id", "missing"},
		{"wrong type", []byte(`{"type":"guest_login","session_id":7,` +
			`"mac_address":"02:00:00:aa:00:01","timestamp":"2025-03-14T08:00:05Z"}`), "", 422,
			"session_id", "schema"},
		{"mixed-separator MAC", []byte(`{"type":"guest_login","session_id":"s-x",` +
			`"mac_address":"02:00-00:aa:00:01","timestamp":"2025-03-14T08:00:05Z"}`), "", 422,
			"mac_address", "mixed separators"},
		{"mixed-separator router MAC", []byte(`{"type":"guest_login","session_id":"s-x",` +
			`"mac_address":"02:00:00:aa:00:01","router_mac":"00-1E-42:A0-01-12",` +
			`"timestamp":"2025-03-14T08:00:05Z"}`), "", 422, "router_mac", "mixed separators"},
		{"bad timestamp", []byte(`{"type":"guest_login","session_id":"s-x",` +
			`"mac_address":"02:00:00:aa:00:01","timestamp":"yesterday"}`), "", 422, "timestamp",
			"matches no known layout"},
		{"too large", big, "", 413, "", "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig := tt.sig
			if sig == "" && tt.status != 401 {
				sig = webhook.Sign(testSecret, now, tt.body)
			}
			before := e.count(t, "SELECT count(*) FROM rejects")

			status, resp := e.postSigned(t, tt.body, sig)
			if status != tt.status || resp.Field != tt.field || !strings.Contains(resp.Error, tt.reason) {
				t.Errorf("answer %d %+v, want %d field %q reason containing %q", status, resp,
					tt.status, tt.field, tt.reason)
			}

			var source, reason string
			var field *string
			err := e.pool.QueryRow(context.Background(), `SELECT source, field, reason FROM rejects
				ORDER BY id DESC LIMIT 1`).Scan(&source, &field, &reason)
			if err != nil {
				t.Fatalf("no reject recorded: %v", err)
			}
			if n := e.count(t, "SELECT count(*) FROM rejects"); n != before+1 {
				t.Errorf("%d rejects added, want 1", n-before)
			}
			gotField := ""
			if field != nil {
				gotField = *field
			}
			if source != "portal" || gotField != tt.field || reason != resp.Error {
				t.Errorf("reject (%s, %q, %q), want (portal, %q, %q)", source, gotField, reason,
					tt.field, resp.Error)
			}
		})
	}
	if n := e.count(t, "SELECT count(*) FROM portal_events"); n != 0 {
		t.Errorf("%d inbox events from refused deliveries, want 0", n)
	}
}

func TestHandler_noSecret(t *testing.T) {
	e := newEnv(t, 3)
	e.handler.Secret = nil
	status, resp := e.post(t, fixtureLines(t)[0])
	if status != http.StatusServiceUnavailable || !strings.Contains(resp.Error, "secret") {
		t.Errorf("answer %d %+v, want 503 naming the secret", status, resp)
	}
}

func TestHandler_schema(t *testing.T) {
	e := newEnv(t, 3)
	resp, err := e.srv.Client().Get(e.srv.URL + webhook.SchemaPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	const id = "urn:routerlogger:schema:captive-portal-event"
	if resp.StatusCode != http.StatusOK || doc["$id"] != id {
		t.Errorf("schema answer %d with $id %v", resp.StatusCode, doc["$id"])
	}
}

// failingEnqueuer inserts the job, then fails, as a lost connection would
// after the insert.
type failingEnqueuer struct{ webhook.Enqueuer }

func (f failingEnqueuer) InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs,
	opts *river.InsertOpts) (*rivertype.JobInsertResult, error) {
	if _, err := f.Enqueuer.InsertTx(ctx, tx, args, opts); err != nil {
		return nil, err
	}
	return nil, errors.New("test: connection lost after the job insert")
}

func TestHandler_enqueueFails(t *testing.T) {
	e := newEnv(t, 3)
	e.handler.Jobs = failingEnqueuer{e.handler.Jobs}

	status, resp := e.post(t, fixtureLines(t)[0])
	if status != http.StatusServiceUnavailable {
		t.Errorf("answer %d %+v, want 503 so that the portal retries", status, resp)
	}
	if n := e.count(t, "SELECT count(*) FROM portal_events"); n != 0 {
		t.Errorf("%d inbox events without their job, want 0", n)
	}
	if n := e.count(t, "SELECT count(*) FROM river_job"); n != 0 {
		t.Errorf("%d jobs without their event, want 0", n)
	}
}

func TestHandler_lateRouter(t *testing.T) {
	e := newEnv(t, 3)
	lines := fixtureLines(t)
	if status, resp := e.post(t, lines[9]); status != http.StatusAccepted { // s-0005
		t.Fatalf("answer %d %+v", status, resp)
	}
	e.waitJobs(t)
	if s := e.sessions(t)["s-0005"]; s.Matched {
		t.Fatalf("s-0005 matched before its router exists: %s", s)
	}

	_, err := e.pool.Exec(context.Background(),
		"INSERT INTO routers (serial, lan_mac) VALUES ('6000000099', '00:1E:42:FF:FF:01')")
	if err != nil {
		t.Fatal(err)
	}
	if s := e.sessions(t)["s-0005"]; !s.Matched || s.RouterSerial == nil ||
		*s.RouterSerial != "6000000099" {
		t.Errorf("s-0005 after its router joined = %s, want matched to 6000000099", s)
	}
}
