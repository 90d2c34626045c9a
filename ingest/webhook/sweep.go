package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// SweepKind is the River kind of [SweepArgs].
const SweepKind = "portal_inbox_sweep"

// DefaultOrphanAfter is how old an orphaned inbox event must be before
// [Sweeper] takes it up, when Sweeper.After is zero.
const DefaultOrphanAfter = 5 * time.Minute

// sweepBatch caps the events one sweep re-enqueues; the next sweep takes
// the rest.
const sweepBatch = 1000

// SweepArgs is the periodic job that runs [Sweeper.Sweep].
type SweepArgs struct{}

// Kind returns [SweepKind].
func (SweepArgs) Kind() string { return SweepKind }

// Sweeper finds inbox events that nothing will ever process and queues
// them again. An event is orphaned when it is unprocessed, older than
// After, has no live job (available, pending, running, retryable or
// scheduled) and no dead letter that waits or was discarded. That happens
// when River discards a job on its last attempt while the database is
// down, so that the dead letter cannot be written, or when a job row is
// deleted by hand. Processing is idempotent, so an event queued twice by
// mistake does no harm.
type Sweeper struct {
	// DB holds the inbox and River's jobs.
	DB DB
	// Jobs enqueues; set it before the job runtime starts.
	Jobs Enqueuer
	// After is the minimum age of an orphan (default [DefaultOrphanAfter]).
	After time.Duration
	// MaxAttempts of the queued jobs; zero means the runtime's default.
	MaxAttempts int
	// Log receives what the sweep did; nil means slog.Default.
	Log *slog.Logger
}

// Sweep queues a job for each orphaned event and returns how many it
// queued. Sweeps are serialised by a transaction lock, so two at once
// never queue the same event twice.
func (s *Sweeper) Sweep(ctx context.Context) (int, error) {
	tx, err := s.DB.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("inbox sweep: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	const lock = "SELECT pg_advisory_xact_lock(hashtextextended('portal_inbox_sweep', 0))"
	if _, err := tx.Exec(ctx, lock); err != nil {
		return 0, fmt.Errorf("inbox sweep: lock: %w", err)
	}
	orphans, err := findOrphans(ctx, tx, s.after())
	if err != nil {
		return 0, err
	}

	for _, o := range orphans {
		opts := &river.InsertOpts{MaxAttempts: s.MaxAttempts}
		if _, err := s.Jobs.InsertTx(ctx, tx, o, opts); err != nil {
			return 0, fmt.Errorf("inbox sweep: enqueue event %d: %w", o.EventID, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("inbox sweep: commit: %w", err)
	}
	if len(orphans) > 0 {
		s.logger().Warn("orphaned portal events queued again", "events", len(orphans))
	}
	return len(orphans), nil
}

// findOrphans returns the jobs to queue for orphaned events, oldest first.
func findOrphans(ctx context.Context, tx pgx.Tx, after time.Duration) ([]ProcessArgs, error) {
	const q = `SELECT e.id, e.session_id FROM portal_events e
		WHERE e.processed_at IS NULL AND e.received_at < now() - $1::interval
			AND NOT EXISTS (SELECT 1 FROM webhook_dead_letters d
				WHERE d.event_id = e.id AND d.replayed_at IS NULL)
			AND NOT EXISTS (SELECT 1 FROM river_job j
				WHERE j.kind = $2 AND (j.args->>'event_id')::bigint = e.id
					AND j.state IN ('available', 'pending', 'running', 'retryable', 'scheduled'))
		ORDER BY e.received_at, e.id LIMIT $3`
	rows, _ := tx.Query(ctx, q, after, JobKind, sweepBatch)
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ProcessArgs, error) {
		var a ProcessArgs
		err := row.Scan(&a.EventID, &a.SessionID)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("inbox sweep: find orphans: %w", err)
	}
	return out, nil
}

func (s *Sweeper) after() time.Duration {
	if s.After <= 0 {
		return DefaultOrphanAfter
	}
	return s.After
}

func (s *Sweeper) logger() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// SweepWorker runs [SweepArgs] jobs.
type SweepWorker struct {
	river.WorkerDefaults[SweepArgs]
	Sweeper *Sweeper
}

// Work runs one sweep.
func (w *SweepWorker) Work(ctx context.Context, _ *river.Job[SweepArgs]) error {
	_, err := w.Sweeper.Sweep(ctx)
	return err
}
