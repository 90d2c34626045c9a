package syncrun_test

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/routerlogger/routerlogger/internal/jobs"
	"github.com/routerlogger/routerlogger/internal/locks"
	"github.com/routerlogger/routerlogger/internal/testkit"
	"github.com/routerlogger/routerlogger/sync/syncrun"
)

// fakeJob is a job whose pass is a func field.
type fakeJob struct {
	name string
	run  func(ctx context.Context, r *syncrun.Run) error
	runs atomic.Int32
}

func (j *fakeJob) Name() string { return j.name }

func (j *fakeJob) Run(ctx context.Context, r *syncrun.Run) error {
	j.runs.Add(1)
	return j.run(ctx, r)
}

var quiet = slog.New(slog.DiscardHandler)

func newRunner(t *testing.T, pool *pgxpool.Pool, holder string, opts syncrun.Options) *syncrun.Runner {
	t.Helper()
	lk, err := locks.New(pool, locks.Options{Holder: holder, Wait: 200 * time.Millisecond,
		Lease: 2 * time.Second, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	opts.Locks = lk
	opts.Logger = quiet
	r, err := syncrun.NewRunner(pool, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// runRow is a row of the view sync_runs.
type runRow struct {
	status                            string
	fetched, changed, failed, skipped int
	err                               *string
	cursor                            *string
	finished                          bool
}

func readRun(t *testing.T, pool *pgxpool.Pool, id int64) runRow {
	t.Helper()
	var r runRow
	err := pool.QueryRow(context.Background(), `
		SELECT status, fetched, changed, failed, skipped, error, cursor, finished_at IS NOT NULL
		FROM sync_runs WHERE id = $1`, id).Scan(&r.status, &r.fetched, &r.changed, &r.failed,
		&r.skipped, &r.err, &r.cursor, &r.finished)
	if err != nil {
		t.Fatalf("read run %d: %v", id, err)
	}
	return r
}

func TestRunner_RunOnce(t *testing.T) {
	pool := testkit.MigratedDB(t)
	ctx := t.Context()

	tests := []struct {
		name   string
		run    func(ctx context.Context, r *syncrun.Run) error
		status syncrun.Status
		counts syncrun.Counts
		retry  bool
	}{
		{"ok", func(_ context.Context, r *syncrun.Run) error {
			r.AddFetched(3)
			r.AddChanged(2)
			r.AddSkipped(1)
			return nil
		}, syncrun.StatusOK, syncrun.Counts{Fetched: 3, Changed: 2, Skipped: 1}, false},
		{"item failed", func(_ context.Context, r *syncrun.Run) error {
			r.AddFetched(2)
			r.Fail("device 7", errors.New("bad mac"))
			return nil
		}, syncrun.StatusPartial, syncrun.Counts{Fetched: 2, Failed: 1}, false},
		{"stopped early", func(_ context.Context, r *syncrun.Run) error {
			r.AddFetched(2)
			r.Partial(errors.New("rate limited"), time.Hour)
			return nil
		}, syncrun.StatusPartial, syncrun.Counts{Fetched: 2}, true},
		{"failed", func(_ context.Context, r *syncrun.Run) error {
			return errors.New("401 unauthorized")
		}, syncrun.StatusFailed, syncrun.Counts{}, true},
		{"panicked", func(_ context.Context, r *syncrun.Run) error {
			panic("boom")
		}, syncrun.StatusFailed, syncrun.Counts{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRunner(t, pool, "a", syncrun.Options{})
			if err := r.Register(&fakeJob{name: tt.name, run: tt.run}, time.Hour); err != nil {
				t.Fatal(err)
			}
			res, err := r.RunOnce(ctx, tt.name)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tt.status || res.Counts != tt.counts {
				t.Fatalf("result %+v, want status %s counts %+v", res, tt.status, tt.counts)
			}
			if got := !res.RetryAt.IsZero(); got != tt.retry {
				t.Fatalf("retry scheduled = %v, want %v", got, tt.retry)
			}
			row := readRun(t, pool, res.RunID)
			if row.status != string(tt.status) || !row.finished || row.fetched != tt.counts.Fetched ||
				row.failed != tt.counts.Failed {
				t.Fatalf("stored run %+v, want %s %+v", row, tt.status, tt.counts)
			}
			if tt.status != syncrun.StatusOK && row.err == nil {
				t.Fatal("a run that did not end ok stored no error")
			}
		})
	}
}

func TestRunner_backoff(t *testing.T) {
	pool := testkit.MigratedDB(t)
	ctx := t.Context()
	r := newRunner(t, pool, "a", syncrun.Options{BackoffBase: time.Minute})
	fail := true
	job := &fakeJob{name: "flaky", run: func(context.Context, *syncrun.Run) error {
		if fail {
			return errors.New("service down")
		}
		return nil
	}}
	if err := r.Register(job, time.Hour); err != nil {
		t.Fatal(err)
	}

	// Each failure in a row doubles the wait: 1, 2, 4 minutes.
	var prev time.Duration
	for i, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute} {
		res, err := r.RunOnce(ctx, "flaky")
		if err != nil {
			t.Fatal(err)
		}
		got := time.Until(res.RetryAt)
		if got < want-5*time.Second || got > want+5*time.Second || got <= prev {
			t.Fatalf("failure %d: retry in %s, want about %s", i+1, got, want)
		}
		prev = got
	}

	// A scheduled run during the back-off is skipped, without calling the job.
	before := job.runs.Load()
	res, err := syncrun.RunScheduled(ctx, r, "flaky")
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != syncrun.StatusSkipped || job.runs.Load() != before {
		t.Fatalf("scheduled run in back-off: %+v, job ran %d times", res, job.runs.Load()-before)
	}

	// An ok run clears the back-off and the failure count.
	fail = false
	if res, err := r.RunOnce(ctx, "flaky"); err != nil || res.Status != syncrun.StatusOK {
		t.Fatalf("recovery run: %+v %v", res, err)
	}
	var failures int
	var next *time.Time
	if err := pool.QueryRow(ctx, `SELECT consecutive_failures, next_attempt_at FROM sync_jobs
		WHERE job = 'flaky'`).Scan(&failures, &next); err != nil {
		t.Fatal(err)
	}
	if failures != 0 || next != nil {
		t.Fatalf("after ok: failures %d, next attempt %v", failures, next)
	}
}

func TestRunner_lockHeldElsewhere(t *testing.T) {
	pool := testkit.MigratedDB(t)
	ctx := t.Context()
	a := newRunner(t, pool, "instance-a", syncrun.Options{})
	b := newRunner(t, pool, "instance-b", syncrun.Options{})
	started, release := make(chan struct{}), make(chan struct{})
	slow := &fakeJob{name: "rms", run: func(context.Context, *syncrun.Run) error {
		close(started)
		<-release
		return nil
	}}
	other := &fakeJob{name: "rms", run: func(context.Context, *syncrun.Run) error { return nil }}
	if err := a.Register(slow, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := b.Register(other, time.Hour); err != nil {
		t.Fatal(err)
	}

	done := make(chan syncrun.Result)
	go func() {
		res, _ := a.RunOnce(ctx, "rms")
		done <- res
	}()
	<-started
	res, err := b.RunOnce(ctx, "rms")
	if err != nil {
		t.Fatal(err)
	}
	close(release)
	if res.Status != syncrun.StatusSkipped || other.runs.Load() != 0 {
		t.Fatalf("second instance: %+v, ran %d", res, other.runs.Load())
	}
	if first := <-done; first.Status != syncrun.StatusOK {
		t.Fatalf("first instance: %+v", first)
	}
}

func TestRunner_runBudget(t *testing.T) {
	pool := testkit.MigratedDB(t)
	ctx := t.Context()
	r := newRunner(t, pool, "a", syncrun.Options{RunTimeout: 300 * time.Millisecond})
	page := 0
	job := &fakeJob{name: "long", run: func(ctx context.Context, run *syncrun.Run) error {
		if run.Resume != "" {
			page = 2 // resumed after page 2
		}
		for ; page < 5; page++ {
			if page == 2 && run.Resume == "" {
				<-ctx.Done() // the first run is slow at page 2
				return ctx.Err()
			}
			run.AddFetched(1)
			if err := run.Checkpoint(ctx, "page="+string(rune('0'+page+1))); err != nil {
				return err
			}
		}
		return nil
	}}
	if err := r.Register(job, time.Hour); err != nil {
		t.Fatal(err)
	}

	first, err := r.RunOnce(ctx, "long")
	if err != nil {
		t.Fatal(err)
	}
	if first.Status != syncrun.StatusPartial || first.Counts.Fetched != 2 ||
		time.Until(first.RetryAt) > time.Second {
		t.Fatalf("first run: %+v, want partial after 2 pages, retry at once", first)
	}
	second, err := r.RunOnce(ctx, "long")
	if err != nil {
		t.Fatal(err)
	}
	if second.Status != syncrun.StatusOK || second.Counts.Fetched != 3 {
		t.Fatalf("second run: %+v, want ok with the 3 pages left", second)
	}
	if row := readRun(t, pool, second.RunID); row.cursor != nil {
		t.Fatalf("a finished run kept cursor %q", *row.cursor)
	}
}

func TestRunner_river(t *testing.T) {
	pool := testkit.MigratedDB(t)
	ctx := context.Background()
	if err := jobs.Migrate(ctx, pool); err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()

	r := newRunner(t, pool, "a", syncrun.Options{BackoffBase: 200 * time.Millisecond})
	passes := make(chan syncrun.Status, 10)
	calls := 0
	job := &fakeJob{name: "geo", run: func(_ context.Context, run *syncrun.Run) error {
		calls++
		if calls == 1 {
			run.Partial(errors.New("rate limited"), 0)
			passes <- syncrun.StatusPartial
			return nil
		}
		passes <- syncrun.StatusOK
		return nil
	}}
	if err := r.Register(job, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := r.Announce(ctx); err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	r.AddWorkers(workers)
	rt, err := jobs.New(pool, jobs.Config{Workers: workers, Queues: map[string]int{syncrun.Queue: 2},
		FetchPollInterval: 100 * time.Millisecond, StopGrace: time.Second, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// Two schedulers, as two instances run: one run per period all the same.
	s1, s2 := r.Scheduler(rt.Client()), r.Scheduler(rt.Client())
	s1.Start(ctx)
	s2.Start(ctx)

	// The scheduler queues a run at start; its partial run schedules a
	// retry after the back-off, which then runs ok.
	for i, want := range []syncrun.Status{syncrun.StatusPartial, syncrun.StatusOK} {
		select {
		case got := <-passes:
			if got != want {
				t.Fatalf("pass %d: %s, want %s", i+1, got, want)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("pass %d (%s) never ran", i+1, want)
		}
	}
	s1.Stop()
	s2.Stop()
	if err := rt.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if calls != 2 {
		t.Fatalf("the job ran %d times, want 2 (one scheduled run, one retry)", calls)
	}
	var queued int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM river_job WHERE kind = 'sync_run'
		AND NOT (args ? 'retry')`).Scan(&queued); err != nil {
		t.Fatal(err)
	}
	if queued != 1 {
		t.Fatalf("two schedulers queued %d runs in one period, want 1", queued)
	}

	var health struct {
		status  string
		overdue bool
	}
	if err := pool.QueryRow(ctx, `SELECT last_status, overdue FROM sync_job_health
		WHERE job = 'geo'`).Scan(&health.status, &health.overdue); err != nil {
		t.Fatal(err)
	}
	if health.status != "ok" || health.overdue {
		t.Fatalf("sync_job_health: %+v", health)
	}

	// No goroutine or timer of River or the runner outlives Stop.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutine leak: %d after Stop, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

func TestRunner_resumeAfterKill(t *testing.T) {
	pool := testkit.MigratedDB(t)
	ctx := t.Context()
	r := newRunner(t, pool, "a", syncrun.Options{})
	var resumed string
	job := &fakeJob{name: "rms", run: func(_ context.Context, run *syncrun.Run) error {
		resumed = run.Resume
		return nil
	}}
	if err := r.Register(job, time.Hour); err != nil {
		t.Fatal(err)
	}

	dead, err := syncrun.BeginAbandoned(ctx, r, "rms", "offset=4")
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.RunOnce(ctx, "rms")
	if err != nil {
		t.Fatal(err)
	}
	if resumed != "offset=4" || res.Status != syncrun.StatusOK {
		t.Fatalf("next run resumed from %q with %+v, want offset=4 and ok", resumed, res)
	}
	old := readRun(t, pool, dead)
	if old.status != "failed" || !old.finished || old.err == nil || old.fetched != 2 {
		t.Fatalf("killed run after the next one: %+v, want failed (interrupted) with its counts", old)
	}

	// The run after an ok one starts from the beginning.
	if _, err := r.RunOnce(ctx, "rms"); err != nil {
		t.Fatal(err)
	}
	if resumed != "" {
		t.Fatalf("run after an ok run resumed from %q", resumed)
	}
}

// TestRunner_shutdown: a run cancelled by shutdown after a checkpoint ends
// partial, keeps its cursor and is retried at once; the next run resumes.
func TestRunner_shutdown(t *testing.T) {
	pool := testkit.MigratedDB(t)
	r := newRunner(t, pool, "a", syncrun.Options{})
	var resumed []string
	job := &fakeJob{name: "clickup", run: func(ctx context.Context, run *syncrun.Run) error {
		resumed = append(resumed, run.Resume)
		if run.Resume != "" {
			return nil
		}
		if err := run.Checkpoint(ctx, "router=42"); err != nil {
			return err
		}
		<-ctx.Done() // shutdown arrives mid-run
		return ctx.Err()
	}}
	if err := r.Register(job, time.Hour); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	res, err := r.RunOnce(ctx, "clickup")
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != syncrun.StatusPartial || !strings.Contains(res.Error, "shutdown") ||
		time.Until(res.RetryAt) > time.Second {
		t.Fatalf("run stopped by shutdown: %+v, want partial, retried at once", res)
	}
	if row := readRun(t, pool, res.RunID); row.cursor == nil || *row.cursor != "router=42" {
		t.Fatalf("stopped run kept cursor %v", row.cursor)
	}
	if _, err := r.RunOnce(t.Context(), "clickup"); err != nil {
		t.Fatal(err)
	}
	if len(resumed) != 2 || resumed[1] != "router=42" {
		t.Fatalf("runs resumed from %q, want the second from router=42", resumed)
	}
}

// TestRunner_shutdownBeforeCheckpoint: a run stopped by shutdown before it
// saved any cursor is partial too, and is no failure in a row: the job
// does not back off for a routine restart.
func TestRunner_shutdownBeforeCheckpoint(t *testing.T) {
	pool := testkit.MigratedDB(t)
	r := newRunner(t, pool, "a", syncrun.Options{})
	job := &fakeJob{name: "rms", run: func(ctx context.Context, run *syncrun.Run) error {
		<-ctx.Done() // a slow first request when the process stops
		return ctx.Err()
	}}
	if err := r.Register(job, time.Hour); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	res, err := r.RunOnce(ctx, "rms")
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != syncrun.StatusPartial || time.Until(res.RetryAt) > time.Second {
		t.Fatalf("run stopped before a checkpoint: %+v, want partial, retried at once", res)
	}
	var failures int
	if err := pool.QueryRow(t.Context(), `SELECT consecutive_failures FROM sync_jobs WHERE job = 'rms'`).
		Scan(&failures); err != nil {
		t.Fatal(err)
	}
	if failures != 0 {
		t.Fatalf("a shutdown counted as failure %d in a row", failures)
	}
}
