// Package jobs is the shared durable-job runtime: River on the project's
// PostgreSQL pool. [Migrate] applies River's own schema, and [Runtime]
// starts and stops one river.Client that works the jobs of the workers
// its callers registered.
//
// Jobs are inserted in the same transaction as the data that needs them
// (river.Client.InsertTx), so a committed row always has its job and a
// rolled-back one never does.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// Defaults of [Config].
const (
	DefaultMaxWorkers  = 10
	DefaultMaxAttempts = 10
	DefaultStopGrace   = 10 * time.Second
)

// Config configures a [Runtime].
type Config struct {
	// Workers holds the workers callers registered with river.AddWorker. It
	// may be nil for an insert-only runtime that never works jobs.
	Workers *river.Workers
	// MaxWorkers is the number of jobs worked at once in the default queue
	// (default [DefaultMaxWorkers]).
	MaxWorkers int
	// MaxAttempts is how often a job is tried before River discards it
	// (default [DefaultMaxAttempts]); a job's InsertOpts may override it.
	MaxAttempts int
	// StopGrace is how long [Runtime.Stop] lets running jobs finish before
	// it cancels them (default [DefaultStopGrace]).
	StopGrace time.Duration
	// FetchPollInterval is how often workers poll for jobs when no insert
	// notification arrives (River's default, 1 s, when zero; at least
	// 100 ms).
	FetchPollInterval time.Duration
	// RescueAfter is how long a job may stay running before River takes it
	// for stuck (its process died) and retries it. River's default is an
	// hour, far too long for a webhook event left running by a crash; zero
	// keeps River's default. It must exceed River's job timeout (1 minute).
	RescueAfter time.Duration
	// JobTimeout cancels a job's context after this long (River's default,
	// 1 minute, when zero); RescueAfter must exceed it.
	JobTimeout time.Duration
	// Queues are extra queues worked beside the default one, with how many
	// jobs of each are worked at once; a queue of its own keeps one kind of
	// job (slow sync runs) from taking every worker of the default queue.
	Queues map[string]int
	// PeriodicJobs are inserted on their schedules by the elected leader
	// among the instances; their workers must be in Workers.
	PeriodicJobs []*river.PeriodicJob
	// Log receives River's logs; nil means slog.Default.
	Log *slog.Logger
}

// Runtime owns one river.Client on a pool.
type Runtime struct {
	client  *river.Client[pgx.Tx]
	grace   time.Duration
	working bool
	log     *slog.Logger
}

// migrateLock is the session advisory lock key that serialises River
// migrations across instances; the value is arbitrary but must never
// change, and differs from internal/db's key so that Migrate may run while
// the schema migration holds that one.
const migrateLock = 7_206_345_101

// Migrate applies every River schema migration the database lacks while
// holding an advisory lock, so that it is safe to call on every start and
// from several instances at once. River's migrations cannot share one
// transaction (one adds an enum value the next uses), so the lock is held
// on a connection of its own, outside the pool.
func Migrate(ctx context.Context, pool *pgxpool.Pool) error {
	quiet := &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)}
	m, err := rivermigrate.New(riverpgxv5.New(pool), quiet)
	if err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}

	lock, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("jobs: migrate: connect for the lock: %w", err)
	}
	defer lock.Close(context.WithoutCancel(ctx)) // closing releases the lock
	if _, err := lock.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLock); err != nil {
		return fmt.Errorf("jobs: migrate: take lock: %w", err)
	}

	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("jobs: migrate river schema: %w", err)
	}
	for _, v := range res.Versions {
		slog.Debug("river migration applied", "version", v.Version, "name", v.Name)
	}
	return nil
}

// New builds a runtime on pool. It does not start working jobs; inserting
// works at once.
func New(pool *pgxpool.Pool, cfg Config) (*Runtime, error) {
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	rc := &river.Config{
		Logger:               slog.New(quieter{log.Handler()}),
		MaxAttempts:          positive(cfg.MaxAttempts, DefaultMaxAttempts),
		FetchPollInterval:    cfg.FetchPollInterval,
		RescueStuckJobsAfter: cfg.RescueAfter,
		JobTimeout:           cfg.JobTimeout,
		PeriodicJobs:         cfg.PeriodicJobs,
	}
	if cfg.Workers != nil {
		rc.Workers = cfg.Workers
		rc.Queues = map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: positive(cfg.MaxWorkers, DefaultMaxWorkers)},
		}
		for name, n := range cfg.Queues {
			rc.Queues[name] = river.QueueConfig{MaxWorkers: positive(n, 1)}
		}
	}

	client, err := river.NewClient(riverpgxv5.New(pool), rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: new client: %w", err)
	}
	grace := cfg.StopGrace
	if grace <= 0 {
		grace = DefaultStopGrace
	}
	return &Runtime{client: client, grace: grace, working: cfg.Workers != nil, log: log}, nil
}

// Client returns the River client, for InsertTx and job queries.
func (r *Runtime) Client() *river.Client[pgx.Tx] { return r.client }

// Start begins working jobs. Cancelling ctx cancels running jobs at once;
// use [Runtime.Stop] for a graceful stop. An insert-only runtime (no
// Workers) has nothing to start and returns nil.
func (r *Runtime) Start(ctx context.Context) error {
	if !r.working {
		return nil
	}
	if err := r.client.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	return nil
}

// Stop stops fetching new jobs, lets running jobs finish for the grace
// period, then cancels the ones still running and waits for them to
// return. It returns once every River goroutine has ended, or when ctx
// ends first.
func (r *Runtime) Stop(ctx context.Context) error {
	if !r.working {
		return nil
	}
	soft, cancel := context.WithTimeout(ctx, r.grace)
	defer cancel()

	err := r.client.Stop(soft)
	if err == nil {
		return nil
	}
	if !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		return fmt.Errorf("jobs: stop: %w", err)
	}

	r.log.Warn("jobs: grace period over, cancelling running jobs", "grace", r.grace)
	if err := r.client.StopAndCancel(ctx); err != nil {
		return fmt.Errorf("jobs: stop and cancel: %w", err)
	}
	return nil
}

// positive returns v, or def when v is not positive.
func positive(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// quieter passes River's logs on with its info records lowered to debug:
// River logs producer statistics at info every few seconds, which would
// bury the lifecycle lines of a worker's log.
type quieter struct{ slog.Handler }

func (q quieter) Enabled(ctx context.Context, l slog.Level) bool {
	return q.Handler.Enabled(ctx, lower(l))
}

func (q quieter) Handle(ctx context.Context, r slog.Record) error {
	r.Level = lower(r.Level)
	return q.Handler.Handle(ctx, r)
}

func (q quieter) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quieter{q.Handler.WithAttrs(attrs)}
}

func (q quieter) WithGroup(name string) slog.Handler { return quieter{q.Handler.WithGroup(name)} }

// lower maps info to debug and keeps the other levels.
func lower(l slog.Level) slog.Level {
	if l == slog.LevelInfo {
		return slog.LevelDebug
	}
	return l
}
