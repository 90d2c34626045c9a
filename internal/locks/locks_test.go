package locks_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/routerlogger/routerlogger/internal/db"
	"github.com/routerlogger/routerlogger/internal/locks"
	"github.com/routerlogger/routerlogger/internal/pgtest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// newDatabase returns the DSN of a fresh, migrated database.
func newDatabase(t *testing.T) string {
	t.Helper()

	dsn := pgtest.NewDatabase(t)
	pool := openPool(t, dsn)
	if _, err := db.Migrate(t.Context(), pool, quiet, db.TimescaleOff); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return dsn
}

// openPool opens a pool, one "instance", closed when the test ends.
func openPool(t *testing.T, dsn string) *pgxpool.Pool {
	t.Helper()

	pool, err := db.Open(t.Context(), dsn, 4)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// newService returns a service on its own pool, with a short lease.
func newService(t *testing.T, dsn, holder string, lease, wait time.Duration) *locks.Service {
	t.Helper()

	return newServiceOn(t, openPool(t, dsn), holder, lease, wait)
}

func newServiceOn(t *testing.T, pool *pgxpool.Pool, holder string,
	lease, wait time.Duration) *locks.Service {
	t.Helper()

	opts := locks.Options{Lease: lease, Wait: wait, Holder: holder, Logger: quiet}
	s, err := locks.New(pool, opts)
	if err != nil {
		t.Fatalf("new service: %v", err)
	}
	return s
}

// acquire takes a lock and fails the test when it cannot.
func acquire(t *testing.T, s *locks.Service, name string) *locks.Lock {
	t.Helper()

	l, err := s.Acquire(t.Context(), name)
	if err != nil {
		t.Fatalf("acquire %s: %v", name, err)
	}
	return l
}

func TestNew_Options(t *testing.T) {
	tests := []struct {
		name string
		opts locks.Options
		want string
	}{
		{"short lease", locks.Options{Lease: time.Millisecond},
			"lease 1ms is shorter than the minimum"},
		{"negative wait", locks.Options{Wait: -time.Second}, "wait -1s is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := locks.New(nil, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestService_Do(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)

	t.Run("mutual exclusion across instances", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		a := newService(t, dsn, "a", time.Second, 10*time.Second)
		b, err := locks.New(openPool(t, dsn), locks.Options{Lease: time.Second,
			Wait: 10 * time.Second, Holder: "b", Logger: quiet, Registerer: reg})
		if err != nil {
			t.Fatal(err)
		}

		var inside, maxInside, runs atomic.Int32
		var wg sync.WaitGroup
		for i := range 20 {
			s := a
			if i%2 == 1 {
				s = b
			}
			wg.Go(func() {
				err := s.Do(t.Context(), "mutex", func(context.Context) error {
					n := inside.Add(1)
					defer inside.Add(-1)
					for m := maxInside.Load(); n > m; m = maxInside.Load() {
						if maxInside.CompareAndSwap(m, n) {
							break
						}
					}
					time.Sleep(3 * time.Millisecond)
					runs.Add(1)
					return nil
				})
				if err != nil {
					t.Errorf("do: %v", err)
				}
			})
		}
		wg.Wait()

		if runs.Load() != 20 || maxInside.Load() != 1 {
			t.Fatalf("%d runs with at most %d at once, want 20 runs one at a time",
				runs.Load(), maxInside.Load())
		}
		histograms := []string{"routerlogger_lock_wait_seconds", "routerlogger_lock_hold_seconds"}
		for _, name := range histograms {
			if got := metricValue(t, reg, name); got != 10 {
				t.Errorf("%s of b: %v observations, want 10", name, got)
			}
		}
		if got := metricValue(t, reg, "routerlogger_lock_contention_total"); got == 0 {
			t.Errorf("contention of b: 0, want some among 20 contenders")
		}
	})

	t.Run("release on error", func(t *testing.T) {
		s := newService(t, dsn, "err", time.Second, time.Second)
		boom := errors.New("boom")
		err := s.Do(t.Context(), "on-error", func(context.Context) error { return boom })
		if !errors.Is(err, boom) {
			t.Fatalf("do: %v, want boom", err)
		}
		checkFree(t, s, "on-error")
	})

	t.Run("release on panic", func(t *testing.T) {
		s := newService(t, dsn, "panic", time.Second, time.Second)
		got := func() (p any) {
			defer func() { p = recover() }()
			_ = s.Do(t.Context(), "on-panic", func(context.Context) error { panic("kaboom") })
			return nil
		}()
		if got != "kaboom" {
			t.Fatalf("recovered %v, want the panic value kaboom", got)
		}
		checkFree(t, s, "on-panic")
	})
}

// metricValue returns the value of a counter, or the observation count of
// a histogram, summed over its series in reg.
func metricValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum
}

// checkFree fails unless the lock name is unlisted and can be taken at once.
func checkFree(t *testing.T, s *locks.Service, name string) {
	t.Helper()

	list, err := s.List(t.Context())
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	for _, l := range list {
		if l.Name == name {
			t.Fatalf("lock %s still listed, held by %s", name, l.Holder)
		}
	}

	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	l, err := s.Acquire(ctx, name)
	if err != nil {
		t.Fatalf("lock %s not free: %v", name, err)
	}
	if err := l.Release(t.Context()); err != nil {
		t.Fatalf("release %s: %v", name, err)
	}
}

func TestService_Acquire(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)

	t.Run("timeout names the holder", func(t *testing.T) {
		a := newService(t, dsn, "holder-a", time.Second, time.Second)
		b := newService(t, dsn, "waiter-b", time.Second, 200*time.Millisecond)
		l := acquire(t, a, "busy")
		defer l.Release(t.Context())

		start := time.Now()
		_, err := b.Acquire(t.Context(), "busy")
		if !errors.Is(err, locks.ErrTimeout) || !strings.Contains(err.Error(), "held by holder-a") {
			t.Fatalf("acquire: %v, want ErrTimeout naming holder-a", err)
		}
		if d := time.Since(start); d < 200*time.Millisecond || d > 2*time.Second {
			t.Fatalf("acquire gave up after %s, want about the 200ms wait", d)
		}
	})

	t.Run("cancelled context", func(t *testing.T) {
		a := newService(t, dsn, "a", time.Second, time.Second)
		b := newService(t, dsn, "b", time.Second, time.Minute)
		l := acquire(t, a, "busy-cancel")
		defer l.Release(t.Context())

		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		_, err := b.Acquire(ctx, "busy-cancel")
		if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, locks.ErrTimeout) {
			t.Fatalf("acquire: %v, want the context's deadline, not ErrTimeout", err)
		}
	})

	t.Run("dead holder frees the lock within the lease", func(t *testing.T) {
		lease := 600 * time.Millisecond
		deadPool := openPool(t, dsn)
		dead := newServiceOn(t, deadPool, "dead", lease, time.Second)
		l := acquire(t, dead, "crash")
		// The instance dies: its database connections go, nothing is released.
		deadPool.Close()

		live := newService(t, dsn, "live", lease, 5*time.Second)
		start := time.Now()
		l2 := acquire(t, live, "crash")
		defer l2.Release(t.Context())
		// The bound is loose: a loaded CI machine delays the retries.
		if d := time.Since(start); d > lease+3*time.Second {
			t.Fatalf("took over after %s, want within the lease %s", d, lease)
		}
		if l2.Token() <= l.Token() {
			t.Errorf("new token %d not above the dead holder's %d", l2.Token(), l.Token())
		}

		<-l.Context().Done()
		if !errors.Is(context.Cause(l.Context()), locks.ErrLost) {
			t.Errorf("dead holder's context cause: %v, want ErrLost", context.Cause(l.Context()))
		}
		if err := l.Release(t.Context()); err == nil {
			t.Error("release on a closed pool returned nil, want the error")
		}
	})

	t.Run("renewal keeps the lock past the lease", func(t *testing.T) {
		// Long enough that renewals (every lease/3) keep it on a loaded
		// two-core CI machine under -race.
		lease := 1500 * time.Millisecond
		holder := newService(t, dsn, "long", lease, time.Second)
		rival := newService(t, dsn, "rival", lease, 50*time.Millisecond)
		l := acquire(t, holder, "long")

		deadline := time.Now().Add(2 * lease)
		for time.Now().Before(deadline) {
			if _, err := rival.Acquire(t.Context(), "long"); !errors.Is(err, locks.ErrTimeout) {
				t.Fatalf("rival acquire: %v, want ErrTimeout while renewed", err)
			}
		}
		if err := l.Context().Err(); err != nil {
			t.Fatalf("holder's context: %v, want live", err)
		}
		list, err := holder.List(t.Context())
		if err != nil || len(list) != 1 || !list[0].RenewedAt.After(list[0].AcquiredAt) {
			t.Fatalf("list: %+v, %v; want one lock renewed after its acquisition", list, err)
		}
		if err := l.Release(t.Context()); err != nil {
			t.Fatalf("release: %v", err)
		}
	})

	t.Run("empty name", func(t *testing.T) {
		s := newService(t, dsn, "a", time.Second, time.Second)
		_, err := s.Acquire(t.Context(), "")
		if err == nil || !strings.Contains(err.Error(), "name is empty") {
			t.Fatalf("acquire: %v, want an error naming the empty name", err)
		}
	})
}

func TestService_Release(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)

	t.Run("force release cancels the holder", func(t *testing.T) {
		lease := 1500 * time.Millisecond
		holder := newService(t, dsn, "victim", lease, time.Second)
		admin := newService(t, dsn, "admin", lease, time.Second)
		acquired := make(chan struct{})
		result := make(chan error, 1)
		go func() {
			result <- holder.Do(t.Context(), "stuck", func(ctx context.Context) error {
				close(acquired)
				<-ctx.Done()
				if !errors.Is(context.Cause(ctx), locks.ErrLost) {
					t.Errorf("cause: %v, want ErrLost", context.Cause(ctx))
				}
				return ctx.Err()
			})
		}()
		<-acquired

		info, err := admin.Release(t.Context(), "stuck")
		if err != nil || info.Holder != "victim" {
			t.Fatalf("release: %+v, %v; want the victim's lock", info, err)
		}
		select {
		case err := <-result:
			if !errors.Is(err, locks.ErrLost) {
				t.Fatalf("do: %v, want ErrLost", err)
			}
		case <-time.After(2 * lease):
			t.Fatal("holder still running two leases after its lock was released")
		}
	})

	t.Run("unknown name", func(t *testing.T) {
		s := newService(t, dsn, "admin", time.Second, time.Second)
		_, err := s.Release(t.Context(), "nobody")
		if !errors.Is(err, locks.ErrNotHeld) || !strings.Contains(err.Error(), `"nobody"`) {
			t.Fatalf("release: %v, want ErrNotHeld naming the lock", err)
		}
	})
}

func TestService_List(t *testing.T) {
	t.Parallel()
	dsn := newDatabase(t)
	pool := openPool(t, dsn)
	s := newServiceOn(t, pool, "lister", time.Minute, time.Second)
	for _, name := range []string{"b", "a"} {
		l := acquire(t, s, name)
		defer l.Release(t.Context())
	}
	_, err := pool.Exec(t.Context(), `INSERT INTO sync_locks VALUES ('expired', 'gone', 0,
		now() - interval '2 minutes', now() - interval '2 minutes', now() - interval '1 minute')`)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("service", func(t *testing.T) {
		list, err := s.List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, l := range list {
			names = append(names, l.Name+"/"+l.Holder)
		}
		if got := strings.Join(names, " "); got != "a/lister b/lister" {
			t.Fatalf("list: %s, want a/lister b/lister", got)
		}
	})

	t.Run("view as reader", func(t *testing.T) {
		tx, err := pool.Begin(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(t.Context())
		if _, err := tx.Exec(t.Context(), "SET LOCAL ROLE routerlogger_reader"); err != nil {
			t.Fatal(err)
		}
		var got string
		err = tx.QueryRow(t.Context(), `SELECT string_agg(name || '/' || holder, ' ' ORDER BY name)
			FROM locks WHERE renewed_at >= acquired_at`).Scan(&got)
		if err != nil || got != "a/lister b/lister" {
			t.Fatalf("view locks: %q, %v; want a/lister b/lister", got, err)
		}
	})
}

// TestService_NoLeak checks that no goroutine outlives Do, whether f
// returns, fails, panics or loses its lock. It does not run in parallel.
func TestService_NoLeak(t *testing.T) {
	dsn := newDatabase(t)
	// A long lease: a renewal goroutine left running would live on for a
	// third of it, well past the check below.
	lease := 3 * time.Second
	s := newService(t, dsn, "leak", lease, time.Second)
	admin := newService(t, dsn, "admin", lease, time.Second)
	if err := acquire(t, s, "warm-up").Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()

	err := s.Do(t.Context(), "lost", func(ctx context.Context) error {
		if _, err := admin.Release(t.Context(), "lost"); err != nil {
			return err
		}
		<-ctx.Done()
		return nil
	})
	if !errors.Is(err, locks.ErrLost) {
		t.Fatalf("do: %v, want ErrLost", err)
	}

	// The quick cases last, so that a leaked renewal would still be waiting
	// for its first tick at the check.
	for range 5 {
		_ = s.Do(t.Context(), "ok", func(context.Context) error { return nil })
		_ = s.Do(t.Context(), "err", func(context.Context) error { return errors.New("x") })
		func() {
			defer func() { _ = recover() }()
			_ = s.Do(t.Context(), "panic", func(context.Context) error { panic("x") })
		}()
	}

	deadline := time.Now().Add(500 * time.Millisecond)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		stacks := buf[:runtime.Stack(buf, true)]
		t.Fatalf("%d goroutines after Do, %d before:\n%s", n, before, stacks)
	}
}
