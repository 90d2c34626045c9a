package syncrun

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Args is the River job that runs one pass of a sync job. Retry marks the
// one-off run scheduled after a back-off; it keeps that run apart from the
// periodic one in River's uniqueness check, so a running periodic run can
// schedule its own retry.
type Args struct {
	Job   string `json:"job"`
	Retry bool   `json:"retry,omitempty"`
}

// Kind names the job kind in River.
func (Args) Kind() string { return "sync_run" }

// Queue is the River queue of sync runs, worked apart from the default
// queue so that slow runs never hold up webhook events.
const Queue = "sync"

// InsertOpts makes runs of one job unique while one is waiting or
// running. River tries a run three times only when its bookkeeping failed
// (database down); a run that failed against the outside service is
// recorded and retried by the runner's back-off instead.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Queue:       Queue,
		MaxAttempts: 3,
		UniqueOpts: river.UniqueOpts{
			ByArgs: true,
			ByState: []rivertype.JobState{
				rivertype.JobStateAvailable, rivertype.JobStatePending,
				rivertype.JobStateRunning, rivertype.JobStateScheduled,
				rivertype.JobStateRetryable,
			},
		},
	}
}

// worker works [Args] with a runner.
type worker struct {
	river.WorkerDefaults[Args]
	r *Runner
}

// Timeout leaves the run's own time limit in charge, with room for the
// bookkeeping after it.
func (w *worker) Timeout(*river.Job[Args]) time.Duration {
	return w.r.timeout + 2*releaseGrace
}

// Work runs one scheduled pass and, after a partial or failed one,
// schedules the retry at the back-off's end.
func (w *worker) Work(ctx context.Context, job *river.Job[Args]) error {
	res, err := w.r.run(ctx, job.Args.Job, true)
	if err != nil {
		return err
	}
	if res.RetryAt.IsZero() {
		return nil
	}

	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return nil // not worked by a River client: nothing to schedule with
	}
	// The run may have ended because the process is stopping: the retry
	// is still worth queueing.
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseGrace)
	defer cancel()
	args, opts := retryArgs(res.Job, res.RetryAt)
	if _, err := client.Insert(ictx, args, opts); err != nil {
		// The periodic run still comes; the back-off holds it until then.
		w.r.log.Warn("sync: schedule retry", "job", res.Job, "at", res.RetryAt, "error", err)
	}
	return nil
}

// AddWorkers registers the runner's worker.
func (r *Runner) AddWorkers(workers *river.Workers) {
	river.AddWorker(workers, &worker{r: r})
}

// retryArgs returns the job inserted to retry name at at.
func retryArgs(name string, at time.Time) (Args, *river.InsertOpts) {
	opts := Args{}.InsertOpts()
	opts.ScheduledAt = at
	return Args{Job: name, Retry: true}, &opts
}
