package rms_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/oauth2"

	"github.com/routerlogger/routerlogger/internal/locks"
	"github.com/routerlogger/routerlogger/sync/rms"
	"github.com/routerlogger/routerlogger/sync/rms/rmstest"
	"github.com/routerlogger/routerlogger/sync/syncrun"
)

var quiet = slog.New(slog.DiscardHandler)

// fixtureNow is the end of the fixture day, when the RMS pages were taken.
var fixtureNow = time.Date(2025, 3, 14, 23, 59, 0, 0, time.UTC)

// setup is a migrated database, a fake RMS and a runner with the job.
type setup struct {
	pool   *pgxpool.Pool
	fake   *rmstest.Fake
	runner *syncrun.Runner
}

// newSetup registers an RMS job on the fake with options changed by mod.
func newSetup(t *testing.T, pool *pgxpool.Pool, mod func(*rms.JobOptions)) *setup {
	t.Helper()
	fake := rmstest.New(t)
	opts := rms.JobOptions{
		Pool: pool,
		Client: rms.ClientOptions{BaseURL: fake.URL,
			Tokens:   oauth2.StaticTokenSource(&oauth2.Token{AccessToken: rmstest.Token}),
			Attempts: 3, RetryWait: 5 * time.Millisecond, RetryTime: 5 * time.Second},
		PageSize: 2, UsageDays: 2, Now: func() time.Time { return fixtureNow }, Logger: quiet,
	}
	if mod != nil {
		mod(&opts)
	}
	job, err := rms.NewJob(opts)
	if err != nil {
		t.Fatal(err)
	}

	lk, err := locks.New(pool, locks.Options{Wait: 200 * time.Millisecond, Lease: 5 * time.Second,
		Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	r, err := syncrun.NewRunner(pool, syncrun.Options{Locks: lk, Logger: quiet,
		BackoffBase: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Register(job, time.Minute); err != nil {
		t.Fatal(err)
	}
	return &setup{pool: pool, fake: fake, runner: r}
}

// run runs the job once.
func (s *setup) run(t *testing.T) syncrun.Result {
	t.Helper()
	res, err := s.runner.RunOnce(context.Background(), rms.JobName)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("run %d: %s fetched %d changed %d skipped %d failed %d; %d requests so far %v; %s",
		res.RunID, res.Status, res.Counts.Fetched, res.Counts.Changed, res.Counts.Skipped,
		res.Counts.Failed, s.fake.Requests(), s.fake.Counts(), res.Error)
	return res
}

// runLog is a row of sync_run_log.
type runLog struct {
	status              string
	cursor, resumedFrom *string
	err                 *string
	errors              []string
}

func (s *setup) runLog(t *testing.T, id int64) runLog {
	t.Helper()
	var r runLog
	if err := s.pool.QueryRow(context.Background(), `SELECT status, cursor, resumed_from, error, errors
		FROM sync_run_log WHERE id = $1`, id).Scan(&r.status, &r.cursor, &r.resumedFrom, &r.err,
		&r.errors); err != nil {
		t.Fatal(err)
	}
	return r
}

func count(t *testing.T, pool *pgxpool.Pool, q string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func wantCount(t *testing.T, fake *rmstest.Fake, key string, want int) {
	t.Helper()
	if got := fake.Count(key); got != want {
		t.Errorf("%s: %d requests, want %d (all: %v)", key, got, want, fake.Counts())
	}
}
