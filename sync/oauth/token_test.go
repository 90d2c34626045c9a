package oauth_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/routerlogger/routerlogger/sync/oauth"
)

// tokens calls Token n times at once on each flow and returns the access
// tokens, failing the test on any error.
func tokens(tb testing.TB, n int, flows ...*oauth.Flow) []string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		got   []string
		start = make(chan struct{})
	)
	for _, f := range flows {
		for range n {
			wg.Go(func() {
				<-start
				tok, err := f.Token(ctx)
				if err != nil {
					tb.Error(err)
					return
				}
				mu.Lock()
				got = append(got, tok.AccessToken)
				mu.Unlock()
			})
		}
	}
	close(start)
	wg.Wait()
	return got
}

// wantStored checks the stored token's refresh token and state.
func wantStored(tb testing.TB, store *oauth.Store, refresh string, state oauth.State) oauth.Record {
	tb.Helper()
	rec, err := store.Load(context.Background(), "rms")
	if err != nil {
		tb.Fatal(err)
	}
	if rec.Token.RefreshToken != refresh || rec.State != state {
		tb.Fatalf("stored refresh token %q state %q, want %q %q", rec.Token.RefreshToken,
			rec.State, refresh, state)
	}
	return rec
}

func TestFlow_Token_concurrentCallersShareOneRefresh(t *testing.T) {
	fake, in := setup(t)
	fake.delay = 200 * time.Millisecond
	seedExpired(t, fake, in.store)

	got := tokens(t, 20, in.flow)

	if n := fake.refreshes.Load(); n != 1 {
		t.Errorf("token endpoint got %d refresh requests, want 1", n)
	}
	want := fake.token(2, time.Time{}).AccessToken
	if len(got) != 20 {
		t.Fatalf("%d callers got a token, want 20", len(got))
	}
	for i, g := range got {
		if g != want {
			t.Errorf("caller %d got %q, want %q", i, g, want)
		}
	}
	rec := wantStored(t, in.store, fake.token(2, time.Time{}).RefreshToken, oauth.StateOK)
	if rec.Generation != 2 || time.Until(rec.Token.Expiry) < 59*time.Minute {
		t.Errorf("stored generation %d expiry %s, want 2 and an hour ahead", rec.Generation,
			rec.Token.Expiry)
	}
	if n := in.refreshes(t, "refreshed"); n != 1 {
		t.Errorf("refreshes_total{outcome=refreshed} = %v, want 1", n)
	}
}

func TestFlow_Token_twoInstancesShareOneRefresh(t *testing.T) {
	fake, a := setup(t)
	b := newInstance(t, secondPool(t, a.pool), fake)
	fake.delay = 200 * time.Millisecond
	seedExpired(t, fake, a.store)

	got := tokens(t, 10, a.flow, b.flow)

	if n := fake.refreshes.Load(); n != 1 {
		t.Errorf("token endpoint got %d refresh requests, want 1", n)
	}
	want := fake.token(2, time.Time{}).AccessToken
	for i, g := range got {
		if g != want {
			t.Errorf("caller %d got %q, want %q", i, g, want)
		}
	}
	if len(got) != 20 {
		t.Errorf("%d callers got a token, want 20", len(got))
	}
	wantStored(t, b.store, fake.token(2, time.Time{}).RefreshToken, oauth.StateOK)
	refreshed := a.refreshes(t, "refreshed") + b.refreshes(t, "refreshed")
	sibling := a.refreshes(t, "sibling") + b.refreshes(t, "sibling")
	if refreshed != 1 || sibling != 1 {
		t.Errorf("refreshed %v, sibling %v across instances, want 1 and 1", refreshed, sibling)
	}
}

func TestFlow_Token_freshTokenNeedsNoRequest(t *testing.T) {
	fake, in := setup(t)
	ctx := t.Context()
	if _, err := in.store.Save(ctx, "rms", fake.token(1, time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}

	for range 3 {
		tok, err := in.flow.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tok.AccessToken != fake.token(1, time.Time{}).AccessToken {
			t.Fatalf("got %q, want the stored token", tok.AccessToken)
		}
	}
	if n := fake.refreshes.Load(); n != 0 {
		t.Errorf("token endpoint got %d requests, want 0", n)
	}
}

func TestFlow_Token_refreshesWithinSkew(t *testing.T) {
	fake, in := setup(t)
	tok := fake.token(1, time.Now().Add(30*time.Second)) // inside the 1-minute skew
	if _, err := in.store.Save(t.Context(), "rms", tok); err != nil {
		t.Fatal(err)
	}
	fake.allow(tok.RefreshToken)

	got, err := oauth2.ReuseTokenSource(nil, in.flow.TokenSource(t.Context())).Token()
	if err != nil {
		t.Fatal(err)
	}
	if want := fake.token(2, time.Time{}).AccessToken; got.AccessToken != want {
		t.Errorf("got %q, want %q", got.AccessToken, want)
	}
	if n := fake.refreshes.Load(); n != 1 {
		t.Errorf("token endpoint got %d requests, want 1", n)
	}
}

func TestFlow_Token_invalidGrant(t *testing.T) {
	t.Run("newer token stored meanwhile", func(t *testing.T) {
		fake, a := setup(t)
		b := newInstance(t, secondPool(t, a.pool), fake)
		seedExpired(t, fake, a.store)

		// Instance b stores a new authorisation while a's refresh is in
		// flight, and the provider has revoked a's refresh token.
		newer := fake.token(9, time.Now().Add(time.Hour))
		fake.beforeRefresh = func(rt string) {
			fake.mu.Lock()
			delete(fake.live, rt)
			fake.mu.Unlock()
			if _, err := b.store.Save(context.Background(), "rms", newer); err != nil {
				t.Error(err)
			}
		}

		tok, err := a.flow.Token(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if tok.AccessToken != newer.AccessToken {
			t.Errorf("got %q, want the newer stored %q", tok.AccessToken, newer.AccessToken)
		}
		wantStored(t, a.store, newer.RefreshToken, oauth.StateOK)
		if n := fake.refreshes.Load(); n != 1 {
			t.Errorf("token endpoint got %d requests, want 1", n)
		}
		if s, ig := a.refreshes(t, "sibling"), a.refreshes(t, "invalid_grant"); s != 1 || ig != 0 {
			t.Errorf("outcomes sibling %v invalid_grant %v, want 1 and 0", s, ig)
		}
	})

	t.Run("nothing newer", func(t *testing.T) {
		fake, in := setup(t)
		tok := fake.token(1, time.Now().Add(-time.Minute))
		if _, err := in.store.Save(t.Context(), "rms", tok); err != nil {
			t.Fatal(err)
		}
		// The fake never issued this refresh token as live: invalid_grant.

		for i := range 5 {
			_, err := in.flow.Token(t.Context())
			if !errors.Is(err, oauth.ErrNeedsReauth) {
				t.Fatalf("call %d: got %v, want ErrNeedsReauth", i, err)
			}
		}
		if n := fake.refreshes.Load(); n != 1 {
			t.Errorf("token endpoint got %d requests over 5 calls, want 1", n)
		}
		if n := in.refreshes(t, "invalid_grant"); n != 1 {
			t.Errorf("refreshes_total{outcome=invalid_grant} = %v, want 1", n)
		}

		var state, lastErr string
		err := in.pool.QueryRow(t.Context(),
			"SELECT state, last_error FROM oauth_state WHERE provider = 'rms'").Scan(&state, &lastErr)
		if err != nil {
			t.Fatal(err)
		}
		if state != "needs_reauth" || lastErr == "" {
			t.Errorf("oauth_state: state %q last_error %q, want needs_reauth and a reason",
				state, lastErr)
		}

		// A new authorisation heals it without a request.
		healed := fake.token(5, time.Now().Add(time.Hour))
		if _, err := in.store.Save(t.Context(), "rms", healed); err != nil {
			t.Fatal(err)
		}
		got, err := in.flow.Token(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if want := fake.token(5, time.Time{}).AccessToken; got.AccessToken != want {
			t.Errorf("after re-authorisation got %q, want %q", got.AccessToken, want)
		}
		if n := fake.refreshes.Load(); n != 1 {
			t.Errorf("token endpoint got %d requests, want still 1", n)
		}
	})
}

func TestFlow_Token_neverAuthorised(t *testing.T) {
	fake, in := setup(t)

	_, err := in.flow.Token(t.Context())
	if !errors.Is(err, oauth.ErrNeedsReauth) {
		t.Fatalf("got %v, want ErrNeedsReauth", err)
	}
	if n := fake.refreshes.Load() + fake.exchanges.Load(); n != 0 {
		t.Errorf("token endpoint got %d requests, want 0", n)
	}
}

func TestFlow_Token_expiredWithoutRefreshToken(t *testing.T) {
	fake, in := setup(t)
	tok := &oauth2.Token{AccessToken: "FAKE-RMS-ACCESS-TOKEN-0001", Expiry: time.Now().Add(-time.Hour)}
	if _, err := in.store.Save(t.Context(), "rms", tok); err != nil {
		t.Fatal(err)
	}

	_, err := in.flow.Token(t.Context())
	if !errors.Is(err, oauth.ErrNeedsReauth) {
		t.Fatalf("got %v, want ErrNeedsReauth", err)
	}
	wantStored(t, in.store, "", oauth.StateNeedsReauth)
	if n := fake.refreshes.Load(); n != 0 {
		t.Errorf("token endpoint got %d requests, want 0", n)
	}
}

func TestFlow_Renew(t *testing.T) {
	fake, a := setup(t)
	b := newInstance(t, secondPool(t, a.pool), fake)
	fake.delay = 200 * time.Millisecond
	first := fake.token(1, time.Now().Add(time.Hour))
	if _, err := a.store.Save(t.Context(), "rms", first); err != nil {
		t.Fatal(err)
	}
	fake.allow(first.RefreshToken)

	// Both instances hold the fresh token 1 when the provider refuses it.
	if got := tokens(t, 1, a.flow, b.flow); len(got) != 2 || got[0] != first.AccessToken {
		t.Fatalf("before: %v", got)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		got  []string
		want = fake.token(2, time.Time{}).AccessToken
	)
	for _, f := range []*oauth.Flow{a.flow, b.flow, a.flow, b.flow} {
		wg.Go(func() {
			tok, err := f.Renew(t.Context(), first.AccessToken)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			got = append(got, tok.AccessToken)
			mu.Unlock()
		})
	}
	wg.Wait()

	if n := fake.refreshes.Load(); n != 1 {
		t.Errorf("token endpoint got %d refresh requests, want 1", n)
	}
	if len(got) != 4 {
		t.Fatalf("%d callers got a token, want 4", len(got))
	}
	for i, g := range got {
		if g != want {
			t.Errorf("caller %d got %q, want %q", i, g, want)
		}
	}
	wantStored(t, a.store, fake.token(2, time.Time{}).RefreshToken, oauth.StateOK)
}

func TestFlow_Token_outageIsNotNeedsReauth(t *testing.T) {
	fake, in := setup(t)
	seedExpired(t, fake, in.store)
	fake.outage.Store(http.StatusServiceUnavailable)

	_, err := in.flow.Token(t.Context())
	if err == nil || errors.Is(err, oauth.ErrNeedsReauth) {
		t.Fatalf("during an outage got %v, want an error other than ErrNeedsReauth", err)
	}
	wantStored(t, in.store, fake.token(1, time.Time{}).RefreshToken, oauth.StateOK)
	if n := in.refreshes(t, "error"); n != 1 {
		t.Errorf("refreshes_total{outcome=error} = %v, want 1", n)
	}

	// The refresh token was not used up: the next call refreshes.
	fake.outage.Store(0)
	tok, err := in.flow.Token(t.Context())
	if err != nil || tok.AccessToken != fake.token(2, time.Time{}).AccessToken {
		t.Fatalf("after the outage: %v, %v", tok, err)
	}
	if n := fake.refreshes.Load(); n != 2 {
		t.Errorf("token endpoint got %d requests, want 2", n)
	}
}

func TestFlow_Token_callerGivesUpRefreshGoesOn(t *testing.T) {
	fake, in := setup(t)
	fake.delay = time.Second
	seedExpired(t, fake, in.store)

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	began := time.Now()
	if _, err := in.flow.Token(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(began); d > 800*time.Millisecond {
		t.Errorf("a cancelled caller waited %s for the refresh", d)
	}

	// The refresh the caller started finishes and is stored: a later
	// call gets its token without a second request.
	tok, err := in.flow.Token(t.Context())
	if err != nil || tok.AccessToken != fake.token(2, time.Time{}).AccessToken {
		t.Fatalf("later call: %v, %v", tok, err)
	}
	if n := fake.refreshes.Load(); n != 1 {
		t.Errorf("token endpoint got %d requests, want 1", n)
	}
	wantStored(t, in.store, fake.token(2, time.Time{}).RefreshToken, oauth.StateOK)
}
