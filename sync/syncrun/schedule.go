package syncrun

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// Scheduler queues a run of every registered job when it starts and then
// at each job's interval. Every instance runs one; River's uniqueness by
// job and period lets only the first insert of a period through, so a
// fleet of instances queues one run per job per interval, and a restart
// does not queue an extra one. (River's own periodic jobs are inserted by
// the elected leader only, from the leader's list, which would tie the
// schedule to whichever instance leads and to its settings.)
type Scheduler struct {
	r      *Runner
	client *river.Client[pgx.Tx]

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Scheduler returns a scheduler that queues the runner's jobs on client.
func (r *Runner) Scheduler(client *river.Client[pgx.Tx]) *Scheduler {
	return &Scheduler{r: r, client: client}
}

// Start begins queueing; it returns at once.
func (s *Scheduler) Start(ctx context.Context) {
	ctx, s.cancel = context.WithCancel(ctx)
	for _, name := range s.r.Jobs() {
		interval := s.r.jobs[name].interval
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.loop(ctx, name, interval)
		}()
	}
}

// Stop stops queueing and returns when every loop has ended. It is safe to
// call without Start and more than once.
func (s *Scheduler) Stop() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
}

// loop queues name now and then every interval until ctx ends.
func (s *Scheduler) loop(ctx context.Context, name string, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.queue(ctx, name, interval)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// queue inserts this period's run of name, unless one was inserted.
func (s *Scheduler) queue(ctx context.Context, name string, interval time.Duration) {
	opts := Args{}.InsertOpts()
	opts.UniqueOpts = river.UniqueOpts{ByArgs: true, ByPeriod: interval}
	res, err := s.client.Insert(ctx, Args{Job: name}, &opts)
	switch {
	case err != nil && ctx.Err() == nil:
		s.r.log.Warn("sync: queue run", "job", name, "error", err)
	case err == nil && !res.UniqueSkippedAsDuplicate:
		s.r.log.Debug("sync run queued", "job", name)
	}
}
