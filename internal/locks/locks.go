// Package locks gives jobs that must not overlap across instances a leased
// lock in PostgreSQL, table sync_locks (migration 0008).
//
// A lock is a row holding a lease that the database clock reckons, so the
// clocks of the instances do not matter. The holder renews the lease in the
// background every third of its length; a holder that dies stops renewing
// and its lock is free once the lease runs out. Every acquisition draws a
// fencing token that renewal and release must match, so a holder that lost
// its lock can never touch its successor's. Acquiring waits at most
// [Options.Wait] and then fails with [ErrTimeout], so start-up never hangs.
// [Service.Do] runs a function under a lock and always releases it, on
// error and on panic too. The view locks lists held locks for SQL and
// Grafana.
package locks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of [Options].
const (
	DefaultLease = 15 * time.Second
	DefaultWait  = 30 * time.Second
)

// MinLease is the shortest lease [New] accepts.
const MinLease = 30 * time.Millisecond

// releaseTimeout bounds a release, which runs even when the caller's
// context is done.
const releaseTimeout = 10 * time.Second

var (
	// ErrTimeout is returned, wrapped, when a lock stayed held by another
	// for the whole wait.
	ErrTimeout = errors.New("lock wait timed out")
	// ErrLost is the cause of a lock's context and is returned, wrapped, by
	// its release when the lock was lost while held: released by force,
	// taken over after its lease ran out, or not renewable.
	ErrLost = errors.New("lock lost")
	// ErrNotHeld is returned, wrapped, by [Service.Release] for a lock that
	// nobody holds.
	ErrNotHeld = errors.New("lock is not held")
)

// Options configure a [Service]; the zero value gives the defaults.
type Options struct {
	// Lease is how long a lock stays held without renewal (DefaultLease).
	// A dead holder's lock is free after at most this long.
	Lease time.Duration
	// Wait is how long an acquisition waits for a held lock (DefaultWait).
	Wait time.Duration
	// Holder names this instance in the registry (default host:pid).
	Holder string
	// Logger receives lock events (default slog.Default()).
	Logger *slog.Logger
	// Registerer, when set, receives the lock metrics.
	Registerer prometheus.Registerer
}

// Info describes a held lock.
type Info struct {
	Name       string
	Holder     string
	Token      int64
	AcquiredAt time.Time
	RenewedAt  time.Time
	ExpiresAt  time.Time
}

// Service acquires, renews, releases and lists locks. It is safe for
// concurrent use; two acquisitions of one name exclude each other even in
// the same process.
type Service struct {
	pool    *pgxpool.Pool
	lease   time.Duration
	wait    time.Duration
	holder  string
	log     *slog.Logger
	metrics *metrics
}

// New returns a service on pool. It checks the options and registers the
// metrics; it does no I/O.
func New(pool *pgxpool.Pool, opts Options) (*Service, error) {
	s := &Service{pool: pool, lease: opts.Lease, wait: opts.Wait, holder: opts.Holder,
		log: opts.Logger}
	if s.lease == 0 {
		s.lease = DefaultLease
	}
	if s.lease < MinLease {
		return nil, fmt.Errorf("locks: lease %s is shorter than the minimum %s", s.lease, MinLease)
	}
	if s.wait == 0 {
		s.wait = DefaultWait
	}
	if s.wait < 0 {
		return nil, fmt.Errorf("locks: wait %s is negative", s.wait)
	}
	if s.holder == "" {
		s.holder = defaultHolder()
	}
	if s.log == nil {
		s.log = slog.Default()
	}

	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	return s, nil
}

// defaultHolder is host:pid.
func defaultHolder() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	return host + ":" + strconv.Itoa(os.Getpid())
}

// Holder returns the name this service registers its locks under.
func (s *Service) Holder() string { return s.holder }

// Do acquires the lock name, runs f and releases the lock, whatever f
// does. f's context is cancelled, with cause [ErrLost], when the lock is
// lost while f runs; f should then stop. Do returns f's error joined with
// the release error (which wraps ErrLost when the lock was lost). When f
// panics, Do releases the lock, logs any release error, and panics again
// with the same value: a panic is a bug that Do must not turn into an
// error.
func (s *Service) Do(ctx context.Context, name string,
	f func(ctx context.Context) error) (err error) {
	l, err := s.Acquire(ctx, name)
	if err != nil {
		return err
	}

	defer func() {
		p := recover()
		rerr := l.Release(ctx)
		if p != nil {
			panic(p)
		}
		err = errors.Join(err, rerr)
	}()
	return f(l.Context())
}

// List returns the held locks by name, read on the database clock.
func (s *Service) List(ctx context.Context) ([]Info, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, holder, token, acquired_at, renewed_at, expires_at
		FROM sync_locks WHERE expires_at > clock_timestamp() ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list locks: %w", err)
	}
	list, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Info])
	if err != nil {
		return nil, fmt.Errorf("list locks: %w", err)
	}
	return list, nil
}

// Release frees the lock name by force, whoever holds it, and logs a
// warning: if the holder still runs, it learns of the loss only at its next
// renewal, so for up to a third of the lease two instances may both work.
// It is for operators freeing a lock they know to be stuck. It returns the
// lock that was released, or an error wrapping [ErrNotHeld].
func (s *Service) Release(ctx context.Context, name string) (Info, error) {
	rows, err := s.pool.Query(ctx, `DELETE FROM sync_locks
		WHERE name = $1 AND expires_at > clock_timestamp()
		RETURNING name, holder, token, acquired_at, renewed_at, expires_at`, name)
	if err != nil {
		return Info{}, fmt.Errorf("release lock %q: %w", name, err)
	}
	info, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Info])
	if errors.Is(err, pgx.ErrNoRows) {
		return Info{}, fmt.Errorf("release lock %q: %w", name, ErrNotHeld)
	}
	if err != nil {
		return Info{}, fmt.Errorf("release lock %q: %w", name, err)
	}

	s.metrics.forced.WithLabelValues(name).Inc()
	s.log.Warn("lock released by force", "lock", name, "holder", info.Holder,
		"token", info.Token, "acquired_at", info.AcquiredAt)
	return info, nil
}
