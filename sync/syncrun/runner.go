package syncrun

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sort"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/routerlogger/routerlogger/internal/locks"
)

// Defaults of [Options].
const (
	DefaultRunTimeout  = 4 * time.Minute
	DefaultBackoffBase = time.Minute
	// MinInterval is the shortest interval [Runner.Register] accepts.
	MinInterval = 10 * time.Second
)

// releaseGrace bounds the bookkeeping done after a run's context ended.
const releaseGrace = 10 * time.Second

// Options configure a [Runner].
type Options struct {
	// Locks keeps a job from overlapping itself across instances. Its Wait
	// is how long a run waits for a lock held elsewhere before it is
	// recorded as skipped; keep it short (seconds).
	Locks *locks.Service
	// RunTimeout bounds one run (DefaultRunTimeout). A run stopped by it
	// after a checkpoint ends partial and the next run resumes at once from
	// its cursor, so a long sync proceeds in slices. Keep it under the job
	// runtime's rescue time (5 minutes by default).
	RunTimeout time.Duration
	// BackoffBase is the first back-off after a failed or partial run
	// (DefaultBackoffBase); it doubles with each such run in a row, up to
	// the job's interval.
	BackoffBase time.Duration
	// Logger receives run events (default slog.Default()).
	Logger *slog.Logger
	// Registerer, when set, receives the run metrics.
	Registerer prometheus.Registerer
}

// Runner runs registered jobs under their locks and records their runs.
// Register every job before the runner is used; after that it is safe for
// concurrent use.
type Runner struct {
	rec     *Recorder
	locks   *locks.Service
	timeout time.Duration
	base    time.Duration
	log     *slog.Logger
	m       *metrics
	jobs    map[string]entry
}

type entry struct {
	job      Job
	interval time.Duration
}

// NewRunner returns a runner on pool. It does no I/O.
func NewRunner(pool *pgxpool.Pool, opts Options) (*Runner, error) {
	if opts.Locks == nil {
		return nil, errors.New("sync: runner needs a lock service")
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Runner{
		rec: NewRecorder(pool), locks: opts.Locks, log: log, m: m,
		timeout: orDefault(opts.RunTimeout, DefaultRunTimeout),
		base:    orDefault(opts.BackoffBase, DefaultBackoffBase),
		jobs:    map[string]entry{},
	}, nil
}

// Register adds job, run every interval by [Runner.PeriodicJobs].
func (r *Runner) Register(job Job, interval time.Duration) error {
	name := job.Name()
	switch {
	case name == "":
		return errors.New("sync: a job needs a name")
	case r.jobs[name].job != nil:
		return fmt.Errorf("sync: job %s registered twice", name)
	case interval < MinInterval:
		return fmt.Errorf("sync: job %s: interval %s is shorter than %s", name, interval, MinInterval)
	}
	r.jobs[name] = entry{job: job, interval: interval}
	return nil
}

// Jobs returns the registered job names, sorted.
func (r *Runner) Jobs() []string {
	names := make([]string, 0, len(r.jobs))
	for n := range r.jobs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Announce writes every registered job and its interval to sync_jobs, so
// that sync_job_health can tell an overdue job. Call it at start.
func (r *Runner) Announce(ctx context.Context) error {
	for _, name := range r.Jobs() {
		if err := r.rec.register(ctx, name, r.jobs[name].interval); err != nil {
			return err
		}
	}
	return nil
}

// RunOnce runs the job now, whatever its back-off, and returns the run.
// The error is for runs that could not be recorded or started (no such
// job, database down); a run that failed is a Result with StatusFailed.
func (r *Runner) RunOnce(ctx context.Context, name string) (Result, error) {
	return r.run(ctx, name, false)
}

// run runs one pass of the job; scheduled runs honour the back-off.
func (r *Runner) run(ctx context.Context, name string, scheduled bool) (Result, error) {
	e, ok := r.jobs[name]
	if !ok {
		return Result{}, fmt.Errorf("sync: no job %q (have %v)", name, r.Jobs())
	}
	if err := r.rec.register(ctx, name, e.interval); err != nil {
		return Result{}, err
	}

	if scheduled {
		at, err := r.rec.nextAttempt(ctx, name)
		if err != nil {
			return Result{}, err
		}
		if !at.IsZero() {
			return r.skip(ctx, name, fmt.Sprintf("backing off until %s", at.UTC().Format(time.RFC3339)))
		}
	}

	var res Result
	var inner error
	err := r.locks.Do(ctx, "sync:"+name, func(lctx context.Context) error {
		res, inner = r.pass(lctx, e)
		return inner
	})
	if errors.Is(err, locks.ErrTimeout) {
		return r.skip(ctx, name, "another instance is running it: "+err.Error())
	}
	if inner != nil {
		return Result{}, inner
	}
	if err != nil {
		// The run was recorded; the lock's release failed or was lost.
		r.log.Warn("sync: lock release", "job", name, "error", err)
	}
	return res, nil
}

// skip records a run that did not start.
func (r *Runner) skip(ctx context.Context, name, reason string) (Result, error) {
	id, err := r.rec.skipped(ctx, name, r.locks.Holder(), reason)
	if err != nil {
		return Result{}, err
	}
	r.m.runs.WithLabelValues(name, string(StatusSkipped)).Inc()
	r.log.Info("sync run skipped", "job", name, "reason", reason)
	return Result{RunID: id, Job: name, Status: StatusSkipped, Error: reason}, nil
}

// pass begins the run, calls the job and records the outcome. Its error is
// only for bookkeeping that failed.
func (r *Runner) pass(ctx context.Context, e entry) (Result, error) {
	name := e.job.Name()
	run, err := r.rec.begin(ctx, name, r.locks.Holder())
	if err != nil {
		return Result{}, err
	}
	r.log.Info("sync run started", "job", name, "run", run.ID, "resume", run.Resume)

	start := time.Now()
	rctx, cancel := context.WithTimeout(ctx, r.timeout)
	jobErr := r.call(rctx, e.job, run)
	var stop stopReason
	switch {
	case ctx.Err() != nil:
		stop = stopReason{"stopped by shutdown or a lost lock", true}
	case errors.Is(rctx.Err(), context.DeadlineExceeded):
		stop = stopReason{fmt.Sprintf("run time of %s used up", r.timeout), false}
	}
	cancel()

	res, cursor, retryAt := r.outcome(run, jobErr, stop, e.interval)
	res.Errors = run.Errors()
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), releaseGrace)
	defer fcancel()
	if err := r.rec.finish(fctx, run, res, res.Errors, cursor, retryAt); err != nil {
		return Result{}, err
	}

	r.m.observe(name, res.Status, time.Since(start))
	r.log.Info("sync run finished", "job", name, "run", run.ID, "status", res.Status,
		"fetched", res.Counts.Fetched, "changed", res.Counts.Changed,
		"failed", res.Counts.Failed, "skipped", res.Counts.Skipped, "error", res.Error)
	return res, nil
}

// call runs the job, turning a panic into an error so the run is recorded
// as failed and the lock released; the stack goes to the log.
func (r *Runner) call(ctx context.Context, job Job, run *Run) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("sync job panicked", "job", job.Name(), "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return job.Run(ctx, run)
}

// outcome decides the run's status, the cursor to keep and when to retry.
func (r *Runner) outcome(run *Run, jobErr error, stop stopReason,
	interval time.Duration) (Result, *string, time.Time) {
	run.mu.Lock()
	defer run.mu.Unlock()

	res := Result{RunID: run.ID, Job: run.Job, Counts: run.counts, Status: StatusOK}
	cursor := run.cursor
	if cursor == nil && run.Resume != "" {
		cursor = &run.Resume
	}
	backoff := r.backoff(run.Failures+1, interval)

	switch {
	case stop.why != "" && jobErr != nil && (run.cursor != nil || stop.outside):
		// Stopped from outside (shutdown), or by the run time after a
		// checkpoint: what it did is kept and nothing failed.
		res.Status = StatusPartial
		res.Error = stop.why + "; the next run resumes from its cursor"
		res.interrupted = true
		// Go on at once: nothing is wrong, there is just more to do.
		res.RetryAt = time.Now()
		return res, cursor, res.RetryAt
	case jobErr != nil:
		res.Status = StatusFailed
		res.Error = jobErr.Error()
	case run.partial != nil:
		res.Status = StatusPartial
		res.Error = run.partial.Error()
		backoff = max(backoff, run.retryAfter)
	case run.counts.Failed > 0:
		res.Status = StatusPartial
		res.Error = fmt.Sprintf("%d items failed; the first: %s", run.counts.Failed, run.errs[0])
		return res, nil, time.Time{}
	default:
		return res, nil, time.Time{}
	}
	res.RetryAt = time.Now().Add(backoff)
	return res, cursor, res.RetryAt
}

// stopReason says why a run's context ended before the job returned;
// outside is true for a shutdown or a lost lock, not the run's own limit.
type stopReason struct {
	why     string
	outside bool
}

// backoff is the wait after the nth failed or partial run in a row: the
// base doubled each time, capped at the job's interval (but never below
// the base).
func (r *Runner) backoff(n int, interval time.Duration) time.Duration {
	d := r.base
	for i := 1; i < n && d < interval; i++ {
		d *= 2
	}
	return max(min(d, interval), r.base)
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
