package oauth_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/routerlogger/routerlogger/internal/testkit"
	"github.com/routerlogger/routerlogger/sync/oauth"
)

// testRedirectURL is the callback URL the flows under test announce.
const testRedirectURL = "http://127.0.0.1:1/oauth/rms/callback"

// instance is one RouterLogger process's view: its own pool, store, flow
// and metrics registry.
type instance struct {
	pool  *pgxpool.Pool
	store *oauth.Store
	flow  *oauth.Flow
	reg   *prometheus.Registry
}

// newInstance builds an instance on pool that talks to fake.
func newInstance(tb testing.TB, pool *pgxpool.Pool, fake *fakeRMS) *instance {
	tb.Helper()
	in := &instance{pool: pool, store: oauth.NewStore(pool, testKey(tb, 7)),
		reg: prometheus.NewRegistry()}
	flow, err := oauth.NewFlow(oauth.Config{
		Provider:    "rms",
		ClientID:    fakeClientID,
		RedirectURL: testRedirectURL,
		AuthURL:     oauth.RMSAuthURL(fake.srv.URL),
		TokenURL:    oauth.RMSTokenURL(fake.srv.URL),
		HTTPClient:  fake.client(),
		Logger:      slog.New(slog.DiscardHandler),
		Registerer:  in.reg,
	}, in.store)
	if err != nil {
		tb.Fatal(err)
	}
	in.flow = flow
	return in
}

// refreshes returns the instance's refresh counter for outcome.
func (in *instance) refreshes(tb testing.TB, outcome string) float64 {
	tb.Helper()
	mfs, err := in.reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}

	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != "routerlogger_oauth_refreshes_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == outcome {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

// secondPool opens another pool on the database of pool, as a second
// instance would.
func secondPool(tb testing.TB, pool *pgxpool.Pool) *pgxpool.Pool {
	tb.Helper()
	p, err := pgxpool.New(context.Background(), pool.Config().ConnString())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.Close)
	return p
}

// setup returns a migrated database, the fake and one instance on them.
func setup(tb testing.TB) (*fakeRMS, *instance) {
	tb.Helper()
	fake := newFakeRMS(tb)
	return fake, newInstance(tb, testkit.MigratedDB(tb), fake)
}

// seedExpired stores the fixture's token (number 1) as expired a minute
// ago and lets the fake accept its refresh token once.
func seedExpired(tb testing.TB, fake *fakeRMS, store *oauth.Store) {
	tb.Helper()
	tok := fake.token(1, time.Now().Add(-time.Minute))
	if _, err := store.Save(context.Background(), "rms", tok); err != nil {
		tb.Fatal(err)
	}
	fake.allow(tok.RefreshToken)
}
