package syncrun

import "context"

// RunScheduled runs name as a scheduled run does, honouring the back-off.
func RunScheduled(ctx context.Context, r *Runner, name string) (Result, error) {
	return r.run(ctx, name, true)
}

// BeginAbandoned starts a run of job, checkpoints cursor and leaves it
// running without its lock, as a process killed mid-run does.
func BeginAbandoned(ctx context.Context, r *Runner, job, cursor string) (int64, error) {
	run, err := r.rec.begin(ctx, job, "dead-instance")
	if err != nil {
		return 0, err
	}
	run.AddFetched(2)
	return run.ID, run.Checkpoint(ctx, cursor)
}
