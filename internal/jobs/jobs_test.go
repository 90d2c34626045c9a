package jobs_test

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/routerlogger/routerlogger/internal/jobs"
	"github.com/routerlogger/routerlogger/internal/pgtest"
)

// blockArgs is a job that runs until its context ends, or returns at once
// when Quick is set.
type blockArgs struct {
	Quick bool `json:"quick"`
}

func (blockArgs) Kind() string { return "jobs_test_block" }

type blockWorker struct {
	river.WorkerDefaults[blockArgs]
	started   chan struct{}
	cancelled chan struct{}
}

func (w *blockWorker) Work(ctx context.Context, job *river.Job[blockArgs]) error {
	if job.Args.Quick {
		return nil
	}
	close(w.started)
	<-ctx.Done()
	close(w.cancelled)
	return ctx.Err()
}

// newPool returns a pool on a fresh database with River's schema.
func newPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if err := jobs.Migrate(context.Background(), pool); err != nil {
		t.Fatal(err)
	}
	return pool
}

func TestMigrate(t *testing.T) {
	pool := newPool(t)
	ctx := context.Background()

	if err := jobs.Migrate(ctx, pool); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM river_job").Scan(&n); err != nil {
		t.Fatalf("river_job after Migrate: %v", err)
	}
}

func TestRuntime_Stop(t *testing.T) {
	pool := newPool(t)
	ctx := context.Background()
	before := runtime.NumGoroutine()

	w := &blockWorker{started: make(chan struct{}), cancelled: make(chan struct{})}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	rt, err := jobs.New(pool, jobs.Config{Workers: workers, StopGrace: 200 * time.Millisecond,
		FetchPollInterval: 100 * time.Millisecond, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}

	done, cancelSub := rt.Client().Subscribe(river.EventKindJobCompleted)
	if _, err := rt.Client().Insert(ctx, blockArgs{Quick: true}, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, done, "quick job completed")
	cancelSub()

	if _, err := rt.Client().Insert(ctx, blockArgs{}, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, w.started, "blocking job started")

	start := time.Now()
	if err := rt.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	took := time.Since(start)
	waitFor(t, w.cancelled, "blocking job cancelled")
	if took < 200*time.Millisecond || took > 5*time.Second {
		t.Errorf("Stop took %s, want the 200ms grace then a prompt cancel", took)
	}

	// Checked here, not in a subtest, whose goroutine would count.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutine leak: %d goroutines after Stop, %d before Start:\n%s",
			n, before, buf[:runtime.Stack(buf, true)])
	}
}

func TestRuntime_insertOnly(t *testing.T) {
	pool := newPool(t)
	ctx := context.Background()

	rt, err := jobs.New(pool, jobs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(ctx); err != nil {
		t.Fatalf("Start of an insert-only runtime: %v", err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Client().InsertTx(ctx, tx, blockArgs{Quick: true}, nil); err != nil {
		t.Fatalf("InsertTx: %v", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM river_job").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d jobs after a rolled-back InsertTx, want 0", n)
	}
	if err := rt.Stop(ctx); err != nil {
		t.Errorf("Stop: %v", err)
	}
}

func TestRuntime_Stop_contextDone(t *testing.T) {
	pool := newPool(t)
	w := &blockWorker{started: make(chan struct{}), cancelled: make(chan struct{})}
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	rt, err := jobs.New(pool, jobs.Config{Workers: workers, StopGrace: time.Hour,
		FetchPollInterval: 100 * time.Millisecond, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.Client().Insert(context.Background(), blockArgs{}, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, w.started, "blocking job started")

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := rt.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stop with an expiring context = %v, want deadline exceeded", err)
	}
	if err := rt.Client().StopAndCancel(context.Background()); err != nil {
		t.Errorf("StopAndCancel after: %v", err)
	}
}

// waitFor waits up to 10 s for ch to yield or close.
func waitFor[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting: %s", what)
	}
}

func TestMigrate_concurrent(t *testing.T) {
	pool, err := pgxpool.New(context.Background(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)

	errs := make(chan error, 4)
	for range cap(errs) {
		go func() { errs <- jobs.Migrate(context.Background(), pool) }()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Errorf("concurrent Migrate: %v", err)
		}
	}
}
