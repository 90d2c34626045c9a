package oauth_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/routerlogger/routerlogger/internal/testkit"
)

// fakeClientID is the client id the fake token endpoint accepts.
const fakeClientID = "rl-test-client"

// tokenResponse is the body of rms-oauth-token.json.
type tokenResponse struct {
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// fakeRMS is a fake of RMS's token endpoint built from rms-oauth-token.json.
// Token n is the fixture's token with its 0001 suffix replaced by n; the
// fixture's own token is number 1. Refresh tokens rotate: each is accepted
// once, then answered with invalid_grant. Code exchanges check the PKCE
// verifier against the challenge of [fakeRMS.approve].
type fakeRMS struct {
	t         testing.TB
	srv       *httptest.Server
	fixture   tokenResponse
	refreshes atomic.Int64 // refresh_token grants received
	exchanges atomic.Int64 // authorization_code grants received

	// delay holds each refresh answer, so that concurrent callers overlap.
	delay time.Duration
	// beforeRefresh, when set, runs before a refresh is answered.
	beforeRefresh func(refreshToken string)
	// outage, while non-zero, is the status of every refresh answer.
	outage atomic.Int32

	mu        sync.Mutex
	seq       int
	live      map[string]bool   // refresh tokens that may be used
	codes     map[string]string // authorisation code -> S256 challenge
	verifiers []string          // code_verifier of each exchange
}

// newFakeRMS starts the fake; its token endpoint is <URL>/account/token.
func newFakeRMS(t testing.TB) *fakeRMS {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testkit.FixturesDir(t), "rms-oauth-token.json"))
	if err != nil {
		t.Fatal(err)
	}

	f := &fakeRMS{t: t, seq: 1, live: map[string]bool{}, codes: map[string]string{}}
	if err := json.Unmarshal(raw, &f.fixture); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /account/token", f.serveToken)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// token returns the fixture's token numbered n, expiring at expiry.
func (f *fakeRMS) token(n int, expiry time.Time) *oauth2.Token {
	tok := &oauth2.Token{
		AccessToken:  numbered(f.fixture.AccessToken, n),
		RefreshToken: numbered(f.fixture.RefreshToken, n),
		TokenType:    f.fixture.TokenType,
		Expiry:       expiry,
	}
	return tok.WithExtra(map[string]any{"scope": f.fixture.Scope})
}

// numbered replaces the 0001 suffix of a fixture token with n.
func numbered(fixture string, n int) string {
	return strings.TrimSuffix(fixture, "0001") + fmt.Sprintf("%04d", n)
}

// allow makes refresh token rt usable once.
func (f *fakeRMS) allow(rt string) {
	f.mu.Lock()
	f.live[rt] = true
	f.mu.Unlock()
}

// approve plays the user consenting at the authorize URL: it checks the
// URL's parameters, remembers the challenge and returns the code and
// state the provider would redirect with.
func (f *fakeRMS) approve(authURL, redirectURL string) (code, state string) {
	f.t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		f.t.Fatal(err)
	}
	q := u.Query()
	want := map[string]string{"response_type": "code", "client_id": fakeClientID,
		"redirect_uri": redirectURL, "code_challenge_method": "S256"}
	for k, v := range want {
		if q.Get(k) != v {
			f.t.Fatalf("authorize URL %s = %q, want %q", k, q.Get(k), v)
		}
	}
	if q.Get("state") == "" || q.Get("code_challenge") == "" {
		f.t.Fatalf("authorize URL lacks state or code_challenge: %s", authURL)
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	code = fmt.Sprintf("FAKE-RMS-CODE-%04d", len(f.codes)+1)
	f.codes[code] = q.Get("code_challenge")
	return code, q.Get("state")
}

// serveToken answers POST /account/token.
func (f *fakeRMS) serveToken(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "want a form, got "+ct)
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if r.PostForm.Get("client_id") != fakeClientID {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "unknown client")
		return
	}

	switch r.PostForm.Get("grant_type") {
	case "refresh_token":
		f.refresh(w, r.PostForm.Get("refresh_token"))
	case "authorization_code":
		f.exchange(w, r.PostForm)
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "")
	}
}

// refresh rotates refresh token rt.
func (f *fakeRMS) refresh(w http.ResponseWriter, rt string) {
	f.refreshes.Add(1)
	time.Sleep(f.delay)
	if f.beforeRefresh != nil {
		f.beforeRefresh(rt)
	}
	if status := int(f.outage.Load()); status != 0 {
		oauthError(w, status, "temporarily_unavailable", "try later")
		return
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.live[rt] {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "The refresh token is invalid.")
		return
	}
	delete(f.live, rt)
	f.issue(w)
}

// exchange trades an approved code for a token if the verifier matches.
func (f *fakeRMS) exchange(w http.ResponseWriter, form url.Values) {
	f.exchanges.Add(1)

	f.mu.Lock()
	defer f.mu.Unlock()
	f.verifiers = append(f.verifiers, form.Get("code_verifier"))
	challenge, ok := f.codes[form.Get("code")]
	delete(f.codes, form.Get("code"))
	if !ok || oauth2.S256ChallengeFromVerifier(form.Get("code_verifier")) != challenge {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "code or code_verifier mismatch")
		return
	}
	f.issue(w)
}

// issue answers with the next token; f.mu is held.
func (f *fakeRMS) issue(w http.ResponseWriter) {
	f.seq++
	body := f.fixture
	body.AccessToken = numbered(f.fixture.AccessToken, f.seq)
	body.RefreshToken = numbered(f.fixture.RefreshToken, f.seq)
	f.live[body.RefreshToken] = true

	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(body)
}

// oauthError writes an RFC 6749 error response.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// onlyHost is a transport that fails the test for any request to another
// host than the fake's, so that no test can reach a real provider.
type onlyHost struct {
	t    testing.TB
	host string
	next http.RoundTripper
}

func (o onlyHost) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != o.host {
		o.t.Errorf("request to %s, want only %s", r.URL, o.host)
		return nil, fmt.Errorf("test: host %s refused", r.URL.Host)
	}
	return o.next.RoundTrip(r)
}

// client returns an HTTP client that reaches the fake and nothing else.
func (f *fakeRMS) client() *http.Client {
	u, _ := url.Parse(f.srv.URL)
	return &http.Client{Timeout: 10 * time.Second,
		Transport: onlyHost{t: f.t, host: u.Host, next: f.srv.Client().Transport}}
}
