package webhook_test

import (
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/ingest/webhook"
	"github.com/routerlogger/routerlogger/internal/mac"
)

func FuzzParse(f *testing.F) {
	for _, line := range fixtureLines(f) {
		f.Add(line)
	}
	f.Add([]byte(`{"type":"x","session_id":"s","mac_address":"0200.00aa.0001",` +
		`"timestamp":"2025-03-14 12:00:00","session_duration":1e3}`))
	f.Add([]byte(`[{}]`))
	f.Add([]byte("{\"type\":\"\xff\"}"))

	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := webhook.Parse(body)
		if err != nil {
			return
		}
		if _, err := mac.Parse(ev.GuestMAC); err != nil || len(ev.GuestMAC) != 17 {
			t.Errorf("accepted guest MAC %q is not canonical: %v", ev.GuestMAC, err)
		}
		if ev.At.Location() != time.UTC || ev.Type == "" || ev.SessionID == "" {
			t.Errorf("accepted event %+v lacks UTC time, type or session", ev)
		}
	})
}

func FuzzMAC(f *testing.F) {
	for _, s := range []string{"02:00:00:aa:00:01", "02-00-00-AA-00-01", "020000aa0002",
		"0200.00aa.0002", "02:00-00:aa:00:01", "", " 001e.42a0.0222 ", "::::::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := mac.Parse(s)
		if err != nil {
			return
		}
		again, err := mac.Parse(got)
		if err != nil || again != got {
			t.Errorf("Parse(%q) = %q, but Parse of that = %q, %v", s, got, again, err)
		}
		sig := webhook.Sign([]byte(s), time.Unix(0, 0), []byte(got))
		if err := webhook.Verify(sig, []byte(got), []byte(s), time.Unix(0, 0), time.Second); err != nil {
			t.Errorf("own signature refused: %v", err)
		}
	})
}
