// Package syncrun runs the sync jobs (RMS, ClickUp, geolocation) and
// records every run in the table behind the view sync_runs.
//
// A [Job] does one pass of its work against a [Run]: it counts what it
// fetched, changed, skipped and failed, records per-item errors without
// stopping, saves a cursor at checkpoints, and stops early with
// [Run.Partial] when the outside service says to (a 429, a quota). The
// [Runner] wraps each pass in the job's lock (internal/locks), so a job
// never overlaps itself across instances, and decides the run's status:
//
//   - ok: the job returned nil and nothing failed;
//   - partial: some items failed, or the job stopped early;
//   - failed: the job returned an error;
//   - skipped: the lock was held elsewhere, or the job is backing off.
//
// A run's row is written when it starts and at every checkpoint, so a run
// whose process died is visible; the next run of the job marks it failed
// and resumes from its cursor ([Run.Resume]).
//
// Runs are durable River jobs: [Runner.PeriodicJobs] inserts one per job
// and interval, [Runner.AddWorkers] registers the worker, and the runner
// schedules a retry with back-off after a partial or failed run.
package syncrun

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Status is the outcome of a run.
type Status string

// The statuses of a run; running is the status of a run not finished yet.
const (
	StatusRunning Status = "running"
	StatusOK      Status = "ok"
	StatusPartial Status = "partial"
	StatusFailed  Status = "failed"
	StatusSkipped Status = "skipped"
)

// maxErrors is how many per-item errors a run keeps.
const maxErrors = 10

// Job is one kind of sync work. Run does one pass; it returns an error
// only when the pass as a whole failed (per-item errors go to
// [Run.Fail]). Run must stop when ctx ends.
type Job interface {
	Name() string
	Run(ctx context.Context, run *Run) error
}

// Counts are a run's tallies.
type Counts struct {
	Fetched, Changed, Failed, Skipped int
}

// Run is one pass of a job. Its methods are safe for concurrent use.
type Run struct {
	// ID is the run's row in sync_run_log.
	ID int64
	// Job is the job's name.
	Job string
	// Resume is the cursor an earlier, unfinished run of the job saved; ""
	// means start from the beginning.
	Resume string
	// Failures is how many runs in a row before this one did not end ok;
	// jobs may use it to widen their own back-off.
	Failures int

	rec *Recorder

	mu         sync.Mutex
	counts     Counts
	errs       []string
	partial    error
	retryAfter time.Duration
	cursor     *string
}

// AddFetched counts n items read from the outside service.
func (r *Run) AddFetched(n int) { r.add(func(c *Counts) { c.Fetched += n }) }

// AddChanged counts n items written because they differed.
func (r *Run) AddChanged(n int) { r.add(func(c *Counts) { c.Changed += n }) }

// AddSkipped counts n items left alone on purpose.
func (r *Run) AddSkipped(n int) { r.add(func(c *Counts) { c.Skipped += n }) }

// Fail counts one item that failed, keeping its error (the first few are
// stored) and going on with the others.
func (r *Run) Fail(item string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()

	r.counts.Failed++
	if len(r.errs) < maxErrors {
		r.errs = append(r.errs, fmt.Sprintf("%s: %v", item, err))
	}
}

// Partial marks the run as stopped early for reason (a rate limit, a
// quota): what it did so far is kept and the run ends partial. retryAfter,
// when positive, is the earliest the job should run again; the runner
// backs off at least that long.
func (r *Run) Partial(reason error, retryAfter time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()

	r.partial = reason
	if retryAfter > r.retryAfter {
		r.retryAfter = retryAfter
	}
}

// Checkpoint stores the counts so far and cursor, where a later run
// resumes if this one does not finish. An empty cursor means "from the
// beginning".
func (r *Run) Checkpoint(ctx context.Context, cursor string) error {
	r.mu.Lock()
	r.cursor = &cursor
	counts, errs := r.counts, append([]string(nil), r.errs...)
	r.mu.Unlock()

	return r.rec.checkpoint(ctx, r.ID, counts, errs, cursor)
}

// Counts returns the tallies so far.
func (r *Run) Counts() Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts
}

// Errors returns the per-item errors kept so far.
func (r *Run) Errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errs...)
}

func (r *Run) add(f func(*Counts)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.counts)
}

// Result is a finished run.
type Result struct {
	RunID  int64
	Job    string
	Status Status
	Counts Counts
	// Error is the reason of a failed, partial or skipped run.
	Error string
	// Errors are the first per-item errors ([Run.Fail]).
	Errors []string
	// RetryAt, when not zero, is when the runner schedules the next try.
	RetryAt time.Time

	// interrupted marks a run stopped from outside or by its time limit:
	// it does not count as a failure in a row.
	interrupted bool
}
