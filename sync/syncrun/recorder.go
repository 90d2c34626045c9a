package syncrun

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// interrupted is the error given to a run found still running by the next
// run of its job, which holds the job's lock: its process ended first.
const interrupted = "interrupted: the process ended before the run finished"

// Recorder writes runs to sync_run_log and job state to sync_jobs.
type Recorder struct {
	db *pgxpool.Pool
}

// NewRecorder returns a recorder on pool.
func NewRecorder(pool *pgxpool.Pool) *Recorder { return &Recorder{db: pool} }

// register creates or updates the job's row with its interval.
func (rc *Recorder) register(ctx context.Context, job string, interval time.Duration) error {
	_, err := rc.db.Exec(ctx, `
		INSERT INTO sync_jobs (job, interval_s) VALUES ($1, $2)
		ON CONFLICT (job) DO UPDATE SET interval_s = EXCLUDED.interval_s, updated_at = now()`,
		job, max(1, int(interval/time.Second)))
	if err != nil {
		return fmt.Errorf("sync: register job %s: %w", job, err)
	}
	return nil
}

// nextAttempt returns when the job may run again after a back-off (zero
// when it may run now), on the database clock.
func (rc *Recorder) nextAttempt(ctx context.Context, job string) (time.Time, error) {
	var at *time.Time
	err := rc.db.QueryRow(ctx, `
		SELECT next_attempt_at FROM sync_jobs
		WHERE job = $1 AND next_attempt_at > now()`, job).Scan(&at)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return time.Time{}, nil
	case err != nil:
		return time.Time{}, fmt.Errorf("sync: read back-off of %s: %w", job, err)
	}
	return *at, nil // the WHERE clause leaves no NULL
}

// begin starts a run of job. The caller holds the job's lock, so any run
// of the job still marked running belongs to a process that died: it is
// closed as failed, and the new run resumes from the cursor of the last
// run that did not get to the end.
func (rc *Recorder) begin(ctx context.Context, job, holder string) (*Run, error) {
	run := &Run{Job: job, rec: rc}
	err := pgx.BeginFunc(ctx, rc.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			UPDATE sync_run_log SET status = 'failed', finished_at = now(), error = $2
			WHERE job = $1 AND status = 'running'`, job, interrupted); err != nil {
			return err
		}

		var cursor *string
		err := tx.QueryRow(ctx, `
			SELECT cursor FROM sync_run_log
			WHERE job = $1 AND status <> 'skipped'
			ORDER BY started_at DESC, id DESC LIMIT 1`, job).Scan(&cursor)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if cursor != nil {
			run.Resume = *cursor
		}

		if err := tx.QueryRow(ctx, `
			SELECT coalesce((SELECT consecutive_failures FROM sync_jobs WHERE job = $1), 0)`,
			job).Scan(&run.Failures); err != nil {
			return err
		}

		return tx.QueryRow(ctx, `
			INSERT INTO sync_run_log (job, holder, cursor, resumed_from)
			VALUES ($1, $2, $3, $3) RETURNING id`, job, holder, cursor).Scan(&run.ID)
	})
	if err != nil {
		return nil, fmt.Errorf("sync: begin run of %s: %w", job, err)
	}
	return run, nil
}

// checkpoint stores a running run's counts and cursor.
func (rc *Recorder) checkpoint(ctx context.Context, id int64, c Counts, errs []string,
	cursor string) error {
	var cur *string
	if cursor != "" {
		cur = &cursor
	}
	_, err := rc.db.Exec(ctx, `
		UPDATE sync_run_log
		SET fetched = $2, changed = $3, failed = $4, skipped = $5, errors = coalesce($6::text[], '{}'), cursor = $7
		WHERE id = $1 AND status = 'running'`,
		id, c.Fetched, c.Changed, c.Failed, c.Skipped, errs, cur)
	if err != nil {
		return fmt.Errorf("sync: checkpoint run %d: %w", id, err)
	}
	return nil
}

// finish closes a run with its outcome and updates the job's back-off.
// cursor is nil when the run got to the end. retryAt is when the job may
// run again (zero: at its next tick).
func (rc *Recorder) finish(ctx context.Context, run *Run, res Result, errs []string,
	cursor *string, retryAt time.Time) error {
	return pgx.BeginFunc(ctx, rc.db, func(tx pgx.Tx) error {
		c := res.Counts
		if _, err := tx.Exec(ctx, `
			UPDATE sync_run_log
			SET status = $2, finished_at = now(), fetched = $3, changed = $4, failed = $5,
			    skipped = $6, errors = coalesce($7::text[], '{}'), error = nullif($8, ''), cursor = $9
			WHERE id = $1`,
			run.ID, string(res.Status), c.Fetched, c.Changed, c.Failed, c.Skipped, errs,
			res.Error, cursor); err != nil {
			return fmt.Errorf("sync: finish run %d: %w", run.ID, err)
		}

		var next *time.Time
		if !retryAt.IsZero() {
			next = &retryAt
		}
		failures := 0
		switch {
		case res.interrupted:
			failures = run.Failures
		case res.Status != StatusOK:
			failures = run.Failures + 1
		}
		if _, err := tx.Exec(ctx, `
			UPDATE sync_jobs SET next_attempt_at = $2, consecutive_failures = $3, updated_at = now()
			WHERE job = $1`, run.Job, next, failures); err != nil {
			return fmt.Errorf("sync: update job %s: %w", run.Job, err)
		}
		return nil
	})
}

// skipped records a run that did not start, with the reason.
func (rc *Recorder) skipped(ctx context.Context, job, holder, reason string) (int64, error) {
	var id int64
	err := rc.db.QueryRow(ctx, `
		INSERT INTO sync_run_log (job, holder, status, finished_at, error)
		VALUES ($1, $2, 'skipped', now(), $3) RETURNING id`, job, holder, reason).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("sync: record skipped run of %s: %w", job, err)
	}
	return id, nil
}
