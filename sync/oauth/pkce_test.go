package oauth_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"golang.org/x/oauth2"

	"github.com/routerlogger/routerlogger/sync/oauth"
)

// callback sends the provider's redirect to the flow's handler, mounted on
// a chi router as serve would mount it.
func callback(tb testing.TB, flow *oauth.Flow, query url.Values) *httptest.ResponseRecorder {
	tb.Helper()
	r := chi.NewRouter()
	r.Method(http.MethodGet, "/oauth/rms/callback", flow.CallbackHandler())

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/oauth/rms/callback?"+query.Encode(), nil))
	return rec
}

// wantRefused checks a 400 answer whose body holds reason.
func wantRefused(tb testing.TB, rec *httptest.ResponseRecorder, reason string) {
	tb.Helper()
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), reason) {
		tb.Errorf("got %d %q, want 400 with %q", rec.Code, rec.Body.String(), reason)
	}
}

// pendingFlows counts the rows of oauth_pkce.
func pendingFlows(tb testing.TB, in *instance) int {
	tb.Helper()
	var n int
	if err := in.pool.QueryRow(tb.Context(), "SELECT count(*) FROM oauth_pkce").Scan(&n); err != nil {
		tb.Fatal(err)
	}
	return n
}

// expireFlows moves every started authorisation into the past.
func expireFlows(tb testing.TB, in *instance) {
	tb.Helper()
	_, err := in.pool.Exec(tb.Context(), `UPDATE oauth_pkce
		SET created_at = now() - interval '20 minutes', expires_at = now() - interval '10 minutes'`)
	if err != nil {
		tb.Fatal(err)
	}
}

func TestFlow_Callback(t *testing.T) {
	fake, in := setup(t)
	authURL, err := in.flow.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(authURL, fake.srv.URL+"/account/authorize?") {
		t.Fatalf("authorize URL %s, want the configured AuthURL", authURL)
	}
	code, state := fake.approve(authURL, testRedirectURL)
	var atRest []byte
	err = in.pool.QueryRow(t.Context(), "SELECT state_hash || verifier FROM oauth_pkce").Scan(&atRest)
	if err != nil {
		t.Fatal(err)
	}

	rec := callback(t, in.flow, url.Values{"code": {code}, "state": {state}})

	if rec.Code != http.StatusOK {
		t.Fatalf("callback: %d %s", rec.Code, rec.Body)
	}
	// The verifier sent at exchange is the one behind the URL's challenge.
	u, _ := url.Parse(authURL)
	if len(fake.verifiers) != 1 ||
		oauth2.S256ChallengeFromVerifier(fake.verifiers[0]) != u.Query().Get("code_challenge") {
		t.Errorf("verifiers %q do not match challenge %s", fake.verifiers, u.Query().Get("code_challenge"))
	}
	if len(fake.verifiers) == 1 && (bytes.Contains(atRest, []byte(fake.verifiers[0])) ||
		bytes.Contains(atRest, []byte(state))) {
		t.Error("oauth_pkce holds the verifier or the state in plaintext")
	}
	stored := wantStored(t, in.store, fake.token(2, time.Time{}).RefreshToken, oauth.StateOK)
	if stored.Scope != fake.fixture.Scope || time.Until(stored.Token.Expiry) < 59*time.Minute {
		t.Errorf("stored scope %q expiry %s", stored.Scope, stored.Token.Expiry)
	}
	if n := pendingFlows(t, in); n != 0 {
		t.Errorf("%d verifiers left after the callback, want 0", n)
	}

	tok, err := in.flow.Token(t.Context())
	if err != nil || tok.AccessToken != fake.token(2, time.Time{}).AccessToken {
		t.Errorf("Token after callback: %v, %v", tok, err)
	}

	t.Run("state used twice", func(t *testing.T) {
		rec := callback(t, in.flow, url.Values{"code": {code}, "state": {state}})
		wantRefused(t, rec, "unknown or already used state")
		if n := fake.exchanges.Load(); n != 1 {
			t.Errorf("token endpoint got %d exchanges, want 1", n)
		}
	})
}

func TestFlow_Callback_refusals(t *testing.T) {
	fake, in := setup(t)

	t.Run("unknown state", func(t *testing.T) {
		rec := callback(t, in.flow, url.Values{"code": {"FAKE-RMS-CODE-0001"}, "state": {"made-up"}})
		wantRefused(t, rec, "unknown or already used state")
	})

	t.Run("missing state", func(t *testing.T) {
		wantRefused(t, callback(t, in.flow, url.Values{"code": {"x"}}), "missing state")
	})

	t.Run("expired state", func(t *testing.T) {
		authURL, err := in.flow.Start(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		code, state := fake.approve(authURL, testRedirectURL)
		expireFlows(t, in)

		wantRefused(t, callback(t, in.flow, url.Values{"code": {code}, "state": {state}}), "state expired")
	})

	t.Run("provider refused", func(t *testing.T) {
		authURL, err := in.flow.Start(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		_, state := fake.approve(authURL, testRedirectURL)

		rec := callback(t, in.flow, url.Values{"state": {state}, "error": {"access_denied"},
			"error_description": {"The user denied the request."}})
		wantRefused(t, rec, "access_denied")
		if n := pendingFlows(t, in); n != 0 {
			t.Errorf("%d verifiers left after a refusal, want 0", n)
		}
	})

	t.Run("verifier mismatch", func(t *testing.T) {
		authURL, err := in.flow.Start(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		code, state := fake.approve(authURL, testRedirectURL)
		fake.mu.Lock()
		fake.codes[code] = oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
		fake.mu.Unlock()

		rec := callback(t, in.flow, url.Values{"code": {code}, "state": {state}})
		if rec.Code != http.StatusBadGateway || !strings.Contains(rec.Body.String(), "invalid_grant") {
			t.Errorf("got %d %q, want 502 with invalid_grant", rec.Code, rec.Body)
		}
	})

	if n := fake.exchanges.Load(); n != 1 {
		t.Errorf("token endpoint got %d exchanges, want 1 (only the mismatch reached it)", n)
	}
	if _, err := in.store.Load(t.Context(), "rms"); err == nil {
		t.Error("a token was stored although every callback was refused")
	}
}

func TestFlow_Cleanup(t *testing.T) {
	_, in := setup(t)
	for range 2 {
		if _, err := in.flow.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	expireFlows(t, in)

	n, err := in.flow.Cleanup(t.Context())
	if err != nil || n != 2 {
		t.Fatalf("Cleanup = %d, %v; want 2", n, err)
	}

	// Start cleans up too.
	if _, err := in.flow.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	expireFlows(t, in)
	if _, err := in.flow.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := pendingFlows(t, in); n != 1 {
		t.Errorf("%d verifiers after Start over an expired one, want 1", n)
	}
}
