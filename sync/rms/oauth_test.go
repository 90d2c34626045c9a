package rms_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/routerlogger/routerlogger/internal/testkit"
	"github.com/routerlogger/routerlogger/sync/oauth"
	"github.com/routerlogger/routerlogger/sync/rms"
	"github.com/routerlogger/routerlogger/sync/rms/rmstest"
	"github.com/routerlogger/routerlogger/sync/syncrun"
)

// TestJob_OAuthRenewsRefusedToken: with OAuth, a 401 for a token that has
// not expired yet (revoked at RMS) renews it once through sync/oauth and
// resends the request; the run ends ok and the rotated token is stored.
func TestJob_OAuthRenewsRefusedToken(t *testing.T) {
	pool := testkit.MigratedDB(t)
	ctx := context.Background()

	// The token endpoint rotates the refresh token and hands out the
	// token the RMS fake accepts.
	var tokenRequests atomic.Int32
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tokenRequests.Add(1)
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "refresh_token" ||
			r.PostForm.Get("refresh_token") != "FAKE-refresh-1" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": rmstest.Token,
			"refresh_token": "FAKE-refresh-2", "expires_in": 3600, "token_type": "Bearer"})
	}))
	defer tokens.Close()

	keys, err := oauth.ParseKeys(strings.Repeat("cd", 32))
	if err != nil {
		t.Fatal(err)
	}
	store := oauth.NewStore(pool, keys)
	if _, err := store.Save(ctx, "rms", &oauth2.Token{AccessToken: "FAKE-revoked",
		RefreshToken: "FAKE-refresh-1", Expiry: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	flow, err := oauth.NewFlow(oauth.Config{Provider: "rms", ClientID: "rl",
		RedirectURL: "http://127.0.0.1/oauth/rms/callback", AuthURL: tokens.URL + "/account/authorize",
		TokenURL: tokens.URL + "/account/token", Logger: quiet}, store)
	if err != nil {
		t.Fatal(err)
	}

	s := newSetup(t, pool, func(o *rms.JobOptions) {
		o.Client.Tokens = nil
		o.Client.OAuth = flow
	})
	res := s.run(t)
	if res.Status != syncrun.StatusOK || res.Counts.Fetched != 3 {
		t.Fatalf("run: %+v, want ok with 3 devices", res)
	}
	if n := tokenRequests.Load(); n != 1 {
		t.Fatalf("%d token requests, want exactly 1 renewal", n)
	}
	rec, err := store.Load(ctx, "rms")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Token.RefreshToken != "FAKE-refresh-2" || rec.Token.AccessToken != rmstest.Token {
		t.Fatalf("stored token after renewal: refresh %q", rec.Token.RefreshToken)
	}
}
