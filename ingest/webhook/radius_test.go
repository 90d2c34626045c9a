package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/ingest/webhook"
)

// radiusRow is one row of the view guest_radius_sessions.
type radiusRow struct {
	RouterSerial *string
	GuestMAC     string
	UserName     *string
	SSID         *string
	StartedAt    *time.Time
	StoppedAt    *time.Time
	InputBytes   *int64
	OutputBytes  *int64
	SessionTime  *int64
	Matched      bool
}

// String renders the row with its pointers followed.
func (r radiusRow) String() string {
	return fmt.Sprintf("router=%v mac=%s user=%v ssid=%v started=%v stopped=%v in=%v out=%v "+
		"time=%v matched=%v", ptr(r.RouterSerial), r.GuestMAC, ptr(r.UserName), ptr(r.SSID),
		ptr(r.StartedAt), ptr(r.StoppedAt), ptr(r.InputBytes), ptr(r.OutputBytes),
		ptr(r.SessionTime), r.Matched)
}

// postRadius delivers body to the RADIUS endpoint, signed with the env's
// clock and secret; a nil secret sends no signature.
func (e *env) postRadius(t *testing.T, body []byte, secret []byte) (int, webhook.Response) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+webhook.RadiusPath,
		bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != nil {
		req.Header.Set(webhook.SignatureHeader, webhook.Sign(secret, e.clock.Now(), body))
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out webhook.Response
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decode answer %d: %v", resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

// radiusSession reads one row of guest_radius_sessions.
func (e *env) radiusSession(t *testing.T, sessionID string) radiusRow {
	t.Helper()
	const q = `SELECT router_serial, guest_mac, user_name, ssid, started_at, stopped_at,
		input_bytes, output_bytes, session_time_s, matched
		FROM guest_radius_sessions WHERE session_id = $1`
	var r radiusRow
	err := e.pool.QueryRow(context.Background(), q, sessionID).Scan(&r.RouterSerial, &r.GuestMAC,
		&r.UserName, &r.SSID, &r.StartedAt, &r.StoppedAt, &r.InputBytes, &r.OutputBytes,
		&r.SessionTime, &r.Matched)
	if err != nil {
		t.Fatalf("read radius session %s: %v", sessionID, err)
	}
	return r
}

// acct builds a plain-valued accounting record.
func acct(status, session string, at time.Time, extra map[string]any) []byte {
	m := map[string]any{
		"Acct-Status-Type":   status,
		"Acct-Session-Id":    session,
		"User-Name":          "guest@example.org",
		"Calling-Station-Id": "aa-bb-cc-00-11-22",
		"Called-Station-Id":  "00-1E-42-A0-01-12:GuestWiFi",
		"Event-Timestamp":    at.Unix(),
	}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return b
}

// typed wraps every attribute of a record in FreeRADIUS's typed form.
func typed(t *testing.T, body []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	for k, v := range m {
		kind := "string"
		if _, ok := v.(float64); ok {
			kind = "integer"
		}
		out[k] = map[string]any{"type": kind, "value": []any{v}}
	}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantAccepted(t *testing.T, e *env, body []byte) {
	t.Helper()
	if status, resp := e.postRadius(t, body, testSecret); status != http.StatusAccepted {
		t.Fatalf("status %d (%+v), want 202 for %s", status, resp, body)
	}
}

func TestHandler_radiusGigawords(t *testing.T) {
	e := newEnv(t, 3)
	t0 := e.clock.Now().Add(-time.Minute)
	tests := []struct {
		name            string
		inOct, inGiga   int64
		outOct, outGiga int64
	}{
		{"gigawords 2 octets 5", 5, 2, 4294967295, 1},
		{"no gigawords", 123456, 0, 0, 0},
		{"largest", 4294967295, 2147483647, 1, 3},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("giga-%d", i)
			wantAccepted(t, e, acct("Start", id, t0, nil))
			wantAccepted(t, e, acct("Interim-Update", id, t0.Add(30*time.Second), map[string]any{
				"Acct-Input-Octets": tc.inOct, "Acct-Input-Gigawords": tc.inGiga,
				"Acct-Output-Octets": tc.outOct, "Acct-Output-Gigawords": tc.outGiga,
				"Acct-Session-Time": 30,
			}))

			s := e.radiusSession(t, id)
			wantIn, wantOut := tc.inGiga<<32+tc.inOct, tc.outGiga<<32+tc.outOct
			if s.InputBytes == nil || *s.InputBytes != wantIn {
				t.Errorf("input_bytes %v, want %d", ptr(s.InputBytes), wantIn)
			}
			if s.OutputBytes == nil || *s.OutputBytes != wantOut {
				t.Errorf("output_bytes %v, want %d", ptr(s.OutputBytes), wantOut)
			}
			if !s.Matched || s.RouterSerial == nil || *s.RouterSerial != "6000000001" {
				t.Errorf("router %v matched %v, want 6000000001 matched", ptr(s.RouterSerial),
					s.Matched)
			}
			if s.SSID == nil || *s.SSID != "GuestWiFi" || s.GuestMAC != "AA:BB:CC:00:11:22" {
				t.Errorf("ssid %v mac %s, want GuestWiFi AA:BB:CC:00:11:22", ptr(s.SSID), s.GuestMAC)
			}
		})
	}

	t.Run("exact example", func(t *testing.T) {
		wantAccepted(t, e, acct("Stop", "giga-example", t0, map[string]any{
			"Acct-Input-Gigawords": 2, "Acct-Input-Octets": 5}))
		if s := e.radiusSession(t, "giga-example"); s.InputBytes == nil ||
			*s.InputBytes != 8589934597 {
			t.Errorf("input_bytes %v, want 8589934597", ptr(s.InputBytes))
		}
	})
}

func ptr[T any](p *T) any {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func TestHandler_radiusStopIsFinal(t *testing.T) {
	e := newEnv(t, 3)
	t0 := e.clock.Now().Add(-4 * time.Minute).Truncate(time.Second)
	counters := func(n int64) map[string]any {
		return map[string]any{"Acct-Input-Octets": n, "Acct-Output-Octets": 2 * n,
			"Acct-Session-Time": n}
	}
	records := []struct {
		status string
		after  time.Duration
		extra  map[string]any
	}{
		{"Start", 0, nil},
		{"Interim-Update", time.Minute, counters(100)},
		{"Stop", 2 * time.Minute, counters(200)},
		{"Interim-Update", 3 * time.Minute, counters(300)},
	}
	orders := map[string][]int{"in order": {0, 1, 2, 3}, "reversed": {3, 2, 1, 0},
		"late interim first": {3, 0, 1, 2}, "stop first": {2, 3, 1, 0}}

	for name, order := range orders {
		t.Run(name, func(t *testing.T) {
			id := "stop-" + strings.ReplaceAll(name, " ", "-")
			for _, i := range order {
				r := records[i]
				wantAccepted(t, e, acct(r.status, id, t0.Add(r.after), r.extra))
			}

			s := e.radiusSession(t, id)
			if s.StartedAt == nil || !s.StartedAt.Equal(t0) {
				t.Errorf("started_at %v, want %v", ptr(s.StartedAt), t0)
			}
			if s.StoppedAt == nil || !s.StoppedAt.Equal(t0.Add(2*time.Minute)) {
				t.Errorf("stopped_at %v, want %v (the Interim-Update after the Stop reopened it?)",
					ptr(s.StoppedAt), t0.Add(2*time.Minute))
			}
			if s.InputBytes == nil || *s.InputBytes != 200 || s.OutputBytes == nil ||
				*s.OutputBytes != 400 || s.SessionTime == nil || *s.SessionTime != 200 {
				t.Errorf("counters in %v out %v time %v, want the Stop's 200 400 200",
					ptr(s.InputBytes), ptr(s.OutputBytes), ptr(s.SessionTime))
			}
		})
	}
}

func TestHandler_radiusDuplicate(t *testing.T) {
	e := newEnv(t, 3)
	at := e.clock.Now().Add(-time.Minute)
	body := acct("Interim-Update", "dup-1", at, map[string]any{"Acct-Input-Octets": 7})
	wantAccepted(t, e, body)
	before := e.radiusSession(t, "dup-1")
	var updated time.Time
	const q = "SELECT updated_at FROM radius_sessions WHERE session_id = 'dup-1'"
	if err := e.pool.QueryRow(context.Background(), q).Scan(&updated); err != nil {
		t.Fatal(err)
	}

	forms := map[string][]byte{"same body": body, "typed form": typed(t, body),
		"other attribute order and spelling": acct("Interim-Update", "dup-1", at,
			map[string]any{"Acct-Input-Octets": 7, "Calling-Station-Id": "AABB.CC00.1122"})}
	for name, b := range forms {
		t.Run(name, func(t *testing.T) {
			e.clock.Advance(time.Second)
			status, resp := e.postRadius(t, b, testSecret)
			if status != http.StatusOK || resp.Status != "duplicate" {
				t.Errorf("status %d (%+v), want 200 duplicate", status, resp)
			}
		})
	}

	if n := e.count(t, "SELECT count(*) FROM radius_accounting"); n != 1 {
		t.Errorf("%d inbox rows, want 1", n)
	}
	var after time.Time
	if err := e.pool.QueryRow(context.Background(), q).Scan(&after); err != nil {
		t.Fatal(err)
	}
	if !after.Equal(updated) || e.radiusSession(t, "dup-1").String() != before.String() {
		t.Errorf("duplicate changed the session: updated_at %v -> %v, %s -> %s", updated, after,
			before, e.radiusSession(t, "dup-1"))
	}
}

func TestHandler_radiusTypedObject(t *testing.T) {
	e := newEnv(t, 3)
	at := e.clock.Now().Add(-time.Minute).Truncate(time.Second)
	plain := acct("Stop", "typed-1", at, map[string]any{"Acct-Input-Octets": 11,
		"Acct-Input-Gigawords": 1, "Acct-Output-Octets": 22, "Acct-Session-Time": 33})
	wantAccepted(t, e, typed(t, plain))

	freeradius := fmt.Sprintf(`{"Acct-Status-Type":{"type":"integer","value":["Start"]},
		"Acct-Session-Id":{"type":"string","value":["typed-1"]},
		"Calling-Station-Id":{"type":"string","value":["AA:BB:CC:00:11:22"]},
		"Called-Station-Id":{"type":"string","value":["00:1E:42:A0:01:12:GuestWiFi"]},
		"Event-Timestamp":{"type":"date","value":[%q]}}`,
		at.Add(-time.Hour).Format("Jan _2 2006 15:04:05 UTC"))
	wantAccepted(t, e, []byte(freeradius))

	s := e.radiusSession(t, "typed-1")
	if s.InputBytes == nil || *s.InputBytes != 1<<32+11 || s.OutputBytes == nil ||
		*s.OutputBytes != 22 || s.SessionTime == nil || *s.SessionTime != 33 {
		t.Errorf("counters in %v out %v time %v, want %d 22 33", ptr(s.InputBytes),
			ptr(s.OutputBytes), ptr(s.SessionTime), int64(1<<32+11))
	}
	if s.StartedAt == nil || !s.StartedAt.Equal(at.Add(-time.Hour)) ||
		s.StoppedAt == nil || !s.StoppedAt.Equal(at) {
		t.Errorf("started %v stopped %v, want %v %v", ptr(s.StartedAt), ptr(s.StoppedAt),
			at.Add(-time.Hour), at)
	}
	if s.UserName == nil || *s.UserName != "guest@example.org" || !s.Matched {
		t.Errorf("user %v matched %v, want guest@example.org matched", ptr(s.UserName), s.Matched)
	}
}

func TestHandler_radiusRefusals(t *testing.T) {
	e := newEnv(t, 3)
	at := e.clock.Now()
	good := acct("Start", "ref-1", at, nil)
	tests := []struct {
		name   string
		body   []byte
		secret []byte
		status int
		field  string
	}{
		{"bad signature", good, []byte("wrong"), http.StatusUnauthorized, ""},
		{"no signature", good, nil, http.StatusUnauthorized, ""},
		{"not json", []byte(`{"Acct-Status-Type":`), testSecret, http.StatusBadRequest, ""},
		{"array", []byte(`[1]`), testSecret, http.StatusBadRequest, ""},
		{"bad guest mac", acct("Start", "ref-1", at, map[string]any{
			"Calling-Station-Id": "aa-bb-cc"}), testSecret, 422, "Calling-Station-Id"},
		{"accounting on", acct("Accounting-On", "ref-1", at, nil), testSecret, 422,
			"Acct-Status-Type"},
		{"no session id", acct("Start", "", at, nil), testSecret, 422, "Acct-Session-Id"},
		{"bad timestamp", acct("Start", "ref-1", at, map[string]any{
			"Event-Timestamp": "yesterday"}), testSecret, 422, "Event-Timestamp"},
		{"gigawords too large", acct("Stop", "ref-1", at, map[string]any{
			"Acct-Input-Gigawords": int64(1) << 31}), testSecret, 422, "Acct-Input-Gigawords"},
		{"negative octets", acct("Stop", "ref-1", at, map[string]any{
			"Acct-Output-Octets": -1}), testSecret, 422, "Acct-Output-Octets"},
		{"empty typed value", []byte(`{"Acct-Session-Id":{"type":"string","value":[]}}`),
			testSecret, 422, "Acct-Session-Id"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, resp := e.postRadius(t, tc.body, tc.secret)
			if status != tc.status || resp.Field != tc.field || resp.Error == "" {
				t.Errorf("got %d field %q error %q, want %d field %q and a reason", status,
					resp.Field, resp.Error, tc.status, tc.field)
			}
			const q = `SELECT count(*) FROM rejects WHERE source = 'radius'
				AND coalesce(field, '') = $1 AND reason = $2`
			if n := e.count(t, q, tc.field, resp.Error); n < 1 {
				t.Errorf("no radius reject row for field %q reason %q", tc.field, resp.Error)
			}
			if n := e.count(t, "SELECT count(*) FROM rejects"); n != i+1 {
				t.Errorf("%d reject rows, want %d", n, i+1)
			}
		})
	}
	if n := e.count(t, "SELECT count(*) FROM radius_accounting"); n != 0 {
		t.Errorf("%d inbox rows after refusals only, want 0", n)
	}
}

func TestParseAccounting_calledStation(t *testing.T) {
	tests := []struct {
		called, router, ssid string
	}{
		{"00-1E-42-A0-01-12:GuestWiFi", "00:1E:42:A0:01:12", "GuestWiFi"},
		{"00:1e:42:a0:01:12:Guest:WiFi", "00:1E:42:A0:01:12", "Guest:WiFi"},
		{"001E42A00112", "00:1E:42:A0:01:12", ""},
		{"10.0.0.1", "", ""},
		{"", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.called, func(t *testing.T) {
			body := acct("Start", "s", time.Unix(1764849600, 0), map[string]any{
				"Called-Station-Id": tc.called})
			rec, err := webhook.ParseAccounting(body)
			if err != nil {
				t.Fatal(err)
			}
			if rec.RouterMAC != tc.router || rec.SSID != tc.ssid {
				t.Errorf("router %q ssid %q, want %q %q", rec.RouterMAC, rec.SSID, tc.router, tc.ssid)
			}
		})
	}
}

func TestHandler_radiusConcurrent(t *testing.T) {
	e := newEnv(t, 3)
	t0 := e.clock.Now().Add(-4 * time.Minute)
	const n = 30
	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i] = acct("Interim-Update", "conc-1", t0.Add(time.Duration(i)*time.Second),
			map[string]any{"Acct-Input-Octets": i, "Acct-Output-Octets": 10 * i})
	}
	sig := func(b []byte) string { return webhook.Sign(testSecret, e.clock.Now(), b) }

	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i, b := range bodies {
		wg.Go(func() {
			req, err := http.NewRequest(http.MethodPost, e.srv.URL+webhook.RadiusPath,
				bytes.NewReader(b))
			if err != nil {
				t.Error(err)
				return
			}
			req.Header.Set(webhook.SignatureHeader, sig(b))
			resp, err := e.srv.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()

	for i, st := range statuses {
		if st != http.StatusAccepted {
			t.Errorf("record %d: status %d, want 202", i, st)
		}
	}
	s := e.radiusSession(t, "conc-1")
	if s.InputBytes == nil || *s.InputBytes != n-1 || s.OutputBytes == nil ||
		*s.OutputBytes != 10*(n-1) {
		t.Errorf("counters in %v out %v, want the latest record's %d %d", ptr(s.InputBytes),
			ptr(s.OutputBytes), n-1, 10*(n-1))
	}
	if got := e.count(t, "SELECT records FROM radius_sessions WHERE session_id = 'conc-1'"); got != n {
		t.Errorf("session counts %d records, want %d", got, n)
	}
}

func TestHandler_radiusReaderRole(t *testing.T) {
	e := newEnv(t, 3)
	ctx := context.Background()
	wantAccepted(t, e, acct("Start", "reader-1", e.clock.Now(), nil))
	conn, err := e.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SET LOCAL ROLE routerlogger_reader"); err != nil {
		t.Fatal(err)
	}

	var n int
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM guest_radius_sessions").Scan(&n); err != nil ||
		n != 1 {
		t.Fatalf("reader: guest_radius_sessions: %d rows, %v; want 1 row", n, err)
	}
	if _, err := tx.Exec(ctx, "SELECT * FROM radius_accounting"); err == nil ||
		!strings.Contains(err.Error(), "permission denied") {
		t.Errorf("reader: radius_accounting: %v, want permission denied", err)
	}
}
