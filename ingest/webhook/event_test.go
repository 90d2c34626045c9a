package webhook_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/ingest/webhook"
)

func TestParse(t *testing.T) {
	lines := fixtureLines(t)
	tests := []struct {
		name   string
		body   string
		guest  string
		router string
		at     time.Time
		extra  string
	}{
		{"colon lower case", string(lines[0]), "02:00:00:AA:00:01", "00:1E:42:A0:01:12",
			time.Date(2025, 3, 14, 8, 0, 5, 0, time.UTC), "{}"},
		{"bare", string(lines[3]), "02:00:00:AA:00:02", "00:1E:42:A0:02:22",
			time.Date(2025, 3, 14, 9, 15, 0, 0, time.UTC), "{}"},
		{"cisco dotted", string(lines[4]), "02:00:00:AA:00:02", "00:1E:42:A0:02:22",
			time.Date(2025, 3, 14, 9, 15, 2, 0, time.UTC), "{}"},
		{"naive timestamp is UTC", string(lines[7]), "02:00:00:AA:00:04", "00:1E:42:A0:01:10",
			time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC), "{}"},
		{"offset", string(lines[10]), "02:00:00:AA:00:02", "00:1E:42:A0:02:22",
			time.Date(2025, 3, 14, 10, 5, 0, 0, time.UTC), "{}"},
		{"extra fields and no router", `{"type":"voucher_redeemed","session_id":"v",` +
			`"mac_address":"02-00-00-aa-00-09","timestamp":"2025-03-14T08:00:00Z","code":"X1"}`,
			"02:00:00:AA:00:09", "", time.Date(2025, 3, 14, 8, 0, 0, 0, time.UTC), `{"code":"X1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := webhook.Parse([]byte(tt.body))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if ev.GuestMAC != tt.guest || ev.RouterMAC != tt.router || !ev.At.Equal(tt.at) ||
				ev.At.Location() != time.UTC || string(ev.Extra) != tt.extra {
				t.Errorf("Parse = %+v (extra %s), want guest %s router %q at %s extra %s", ev,
					ev.Extra, tt.guest, tt.router, tt.at, tt.extra)
			}
		})
	}
}

func TestParse_errors(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		field     string
		reason    string
		malformed bool
	}{
		{"empty", ``, "", "not valid JSON", true},
		{"two values", `{} {}`, "", "more than one JSON value", true},
		{"string", `"x"`, "", "a JSON string, want an object", true},
		{"missing mac", `{"type":"t","session_id":"s","timestamp":"2025-03-14T08:00:00Z"}`,
			"mac_address", "missing", false},
		{"blank type", `{"type":" ","session_id":"s","mac_address":"020000aa0001",` +
			`"timestamp":"2025-03-14T08:00:00Z"}`, "type", "blank", false},
		{"negative duration", `{"type":"t","session_id":"s","mac_address":"020000aa0001",` +
			`"timestamp":"2025-03-14T08:00:00Z","session_duration":-1}`, "session_duration",
			"minimum", false},
		{"short mac", `{"type":"t","session_id":"s","mac_address":"02:00:00:aa:00",` +
			`"timestamp":"2025-03-14T08:00:00Z"}`, "mac_address", "hex digits", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := webhook.Parse([]byte(tt.body))
			var fe *webhook.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse error = %v, want a *FieldError", err)
			}
			if fe.Field != tt.field || fe.Malformed != tt.malformed ||
				!strings.Contains(fe.Reason, tt.reason) {
				t.Errorf("Parse error = %+v, want field %q malformed %v reason containing %q", fe,
					tt.field, tt.malformed, tt.reason)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	secret, body := []byte("s3cret"), []byte(`{"a":1}`)
	now := time.Unix(1_800_000_000, 0)
	good := webhook.Sign(secret, now, body)
	ts, hexMAC, _ := strings.Cut(good, ",v1=")
	tests := []struct {
		name   string
		header string
		now    time.Time
		reason string // empty: accepted
	}{
		{"good", good, now, ""},
		{"upper-case hex", ts + ",v1=" + strings.ToUpper(hexMAC), now, ""},
		{"rotation: second v1 matches", ts + ",v1=00,v1=" + hexMAC, now, ""},
		{"spaces", " " + ts + " , v1=" + hexMAC + " ", now, ""},
		{"edge of window", good, now.Add(5 * time.Minute), ""},
		{"past window", good, now.Add(5*time.Minute + time.Second), "outside the 5m0s window"},
		{"empty", "", now, "missing"},
		{"no v1", "t=1800000000", now, "must be t="},
		{"bad t", "t=soon,v1=00", now, "not unix seconds"},
		{"wrong mac", "t=1800000000,v1=00", now, "no v1 signature matches"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := webhook.Verify(tt.header, body, secret, tt.now, webhook.DefaultWindow)
			switch {
			case tt.reason == "" && err != nil:
				t.Errorf("Verify = %v, want nil", err)
			case tt.reason != "" && (!errors.Is(err, webhook.ErrSignature) ||
				!strings.Contains(err.Error(), tt.reason)):
				t.Errorf("Verify = %v, want ErrSignature with %q", err, tt.reason)
			}
		})
	}
}

func TestDerive(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2025, 3, 14, 10, m, 0, 0, time.UTC) }
	ev := func(typ string, m int, email string) webhook.SessionEvent {
		return webhook.SessionEvent{Type: typ, GuestMAC: "02:00:00:AA:00:03",
			RouterMAC: "00:1E:42:A0:03:32", Email: email, At: at(m)}
	}
	tests := []struct {
		name    string
		events  []webhook.SessionEvent
		started *time.Time
		ended   *time.Time
		reason  string
		email   string
	}{
		{"logout before login", []webhook.SessionEvent{ev("guest_logout", 45, ""),
			ev("guest_login", 0, "g@example.com")}, new(at(0)), new(at(45)), "guest_logout",
			"g@example.com"},
		{"late start does not reopen", []webhook.SessionEvent{ev("guest_login", 0, ""),
			ev("session_expired", 30, ""), ev("guest_login", 50, "")}, new(at(0)), new(at(30)),
			"session_expired", ""},
		{"latest end wins", []webhook.SessionEvent{ev("session_expired", 40, ""),
			ev("guest_logout", 20, ""), ev("registration_completed", 5, "a@b")}, new(at(5)),
			new(at(40)), "session_expired", "a@b"},
		{"voucher only", []webhook.SessionEvent{ev("voucher_redeemed", 1, "v@b")}, nil, nil, "",
			"v@b"},
		{"none", nil, nil, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := webhook.Derive(tt.events)
			if !sameTime(s.Started, tt.started) || !sameTime(s.Ended, tt.ended) ||
				s.EndReason != tt.reason || s.Email != tt.email {
				t.Errorf("Derive = started %v ended %v reason %q email %q; want %v %v %q %q",
					s.Started, s.Ended, s.EndReason, s.Email, tt.started, tt.ended, tt.reason, tt.email)
			}
			rev := make([]webhook.SessionEvent, len(tt.events))
			for i, e := range tt.events {
				rev[len(rev)-1-i] = e
			}
			if a, b := jsonOf(t, webhook.Derive(rev)), jsonOf(t, s); a != b {
				t.Errorf("Derive depends on order: %s vs %s", a, b)
			}
		})
	}
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
