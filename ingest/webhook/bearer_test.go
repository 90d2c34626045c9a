package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/routerlogger/routerlogger/ingest/tokens"
	"github.com/routerlogger/routerlogger/ingest/webhook"
)

// TestHandler_Bearer posts with portal bearer tokens to a server that
// accepts them and to one that does not (the default): every refusal has
// its status and reason and lands in rejects.
func TestHandler_Bearer(t *testing.T) {
	e := newEnv(t, 3)
	ctx := context.Background()
	store := tokens.NewStore(e.pool, nil, 0)
	portal, err := store.CreatePortal(ctx, "lobby")
	if err != nil {
		t.Fatal(err)
	}
	fleet, _ := store.CreateFleet(ctx, "routers")

	on := &webhook.Handler{DB: e.pool, Jobs: e.rt.Client(), Secret: testSecret, Clock: e.clock,
		Bearer: true, Tokens: store, Log: slog.New(slog.DiscardHandler)}
	r := chi.NewRouter()
	on.Routes(r)
	bearerSrv := httptest.NewServer(r)
	t.Cleanup(bearerSrv.Close)

	body := func(session string) []byte {
		return []byte(`{"type":"guest_login","session_id":"` + session + `","mac_address":"02:00:00:aa:00:41",` +
			`"timestamp":"2025-03-14T08:00:00Z"}`)
	}
	tests := []struct {
		name, url, token string
		want             int
		reason           string
	}{
		{"bearer on, portal token", bearerSrv.URL, portal, http.StatusAccepted, ""},
		{"bearer on, revoked or unknown", bearerSrv.URL, "rl_nope", http.StatusUnauthorized, "invalid or revoked"},
		{"bearer on, fleet token", bearerSrv.URL, fleet, http.StatusForbidden, "not a portal token"},
		{"bearer off", e.srv.URL, portal, http.StatusUnauthorized, "ROUTERLOGGER_PORTAL_BEARER is off"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.count(t, "SELECT count(*) FROM rejects WHERE source = 'portal'")
			req, _ := http.NewRequest(http.MethodPost, tt.url+webhook.Path,
				bytes.NewReader(body("s-bearer-"+string(rune('a'+i)))))
			req.Header.Set("Authorization", "Bearer "+tt.token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out webhook.Response
			_ = json.NewDecoder(resp.Body).Decode(&out)
			if resp.StatusCode != tt.want || !strings.Contains(out.Error, tt.reason) {
				t.Fatalf("%d %+v, want %d with %q", resp.StatusCode, out, tt.want, tt.reason)
			}

			wantRejects := before + 1
			if tt.want == http.StatusAccepted {
				wantRejects = before
			}
			const q = "SELECT count(*) FROM rejects WHERE source = 'portal' AND reason LIKE '%' || $1 || '%'"
			if n := e.count(t, "SELECT count(*) FROM rejects WHERE source = 'portal'"); n != wantRejects ||
				(tt.reason != "" && e.count(t, q, tt.reason) != 1) {
				t.Errorf("%d rejects, want %d with reason %q", n, wantRejects, tt.reason)
			}
		})
	}

	// A signed delivery still passes where bearer tokens are on.
	req, _ := http.NewRequest(http.MethodPost, bearerSrv.URL+webhook.Path, bytes.NewReader(body("s-signed")))
	req.Header.Set(webhook.SignatureHeader, webhook.Sign(testSecret, e.clock.Now(), body("s-signed")))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("signed delivery with bearer tokens on: %d, want 202", resp.StatusCode)
	}
}
