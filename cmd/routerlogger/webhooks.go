package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/routerlogger/routerlogger/ingest/tokens"
	"github.com/routerlogger/routerlogger/ingest/webhook"
	"github.com/routerlogger/routerlogger/internal/jobs"
	"github.com/routerlogger/routerlogger/sync/syncrun"
)

// webhookConfig is the captive-portal webhook and job settings of serve.
type webhookConfig struct {
	secret    *string
	bearer    *string
	maxBody   *int64
	attempts  *int64
	workers   *int64
	grace     *time.Duration
	rescue    *time.Duration
	orphans   *time.Duration
	retention *time.Duration
}

// rescueFloor is the least ROUTERLOGGER_JOBS_RESCUE_AFTER allowed. Only
// the SIGKILL test lowers it, at link time (-ldflags -X
// main.rescueFloor=20s), so that it need not wait minutes for River to
// rescue the jobs the killed process left running.
var rescueFloor = "2m"

// minRescueAfter parses rescueFloor.
func minRescueAfter() time.Duration {
	d, err := time.ParseDuration(rescueFloor)
	if err != nil || d <= 0 {
		return 2 * time.Minute
	}
	return d
}

// Schedules of the periodic webhook jobs.
const (
	sweepEvery     = time.Minute
	retentionEvery = time.Hour
)

// registerWebhooks registers the webhook settings of serve.
func registerWebhooks(f *flags) *webhookConfig {
	c := f.cfg
	return &webhookConfig{
		secret: c.Secret("portal-secret", envs("PORTAL_SECRET"),
			"shared secret of the captive-portal webhook signatures; empty: the webhook answers 503"),
		bearer: c.Enum("portal-bearer", envs("PORTAL_BEARER"), "off", []string{"off", "on"},
			"on: portals may post with a portal bearer token (token create --portal NAME) instead of signing"),
		maxBody: c.Int("portal-max-body", envs("PORTAL_MAX_BODY"), webhook.DefaultMaxBody, 1024, 16<<20,
			"webhook body limit in bytes"),
		attempts: c.Int("jobs-max-attempts", envs("JOBS_MAX_ATTEMPTS"), jobs.DefaultMaxAttempts, 1, 100,
			"attempts of a job before its event goes to the dead-letter queue"),
		workers: c.Int("jobs-workers", envs("JOBS_WORKERS"), jobs.DefaultMaxWorkers, 1, 1000,
			"jobs worked at once"),
		grace: c.Duration("jobs-stop-grace", envs("JOBS_STOP_GRACE"), jobs.DefaultStopGrace, 0, 10*time.Minute,
			"time running jobs get to finish on shutdown before they are cancelled"),
		rescue: c.Duration("jobs-rescue-after", envs("JOBS_RESCUE_AFTER"), 5*time.Minute, minRescueAfter(),
			24*time.Hour, "a job running this long is taken for stuck (its process died) and retried"),
		orphans: c.Duration("webhook-orphan-after", envs("WEBHOOK_ORPHAN_AFTER"), webhook.DefaultOrphanAfter,
			time.Minute, 24*time.Hour,
			"an unprocessed portal event this old with no job and no dead letter is queued again"),
		retention: c.Duration("guest-pii-retention", envs("GUEST_PII_RETENTION"), 0, 0, 100*365*24*time.Hour,
			"erase guest e-mail and name of portal sessions ended longer ago than this (0: keep them)"),
	}
}

// jobRuntime is a process's River runtime: the webhook event jobs, the
// inbox sweep, the guest data retention and the sync runs. serve and
// worker build the same one, so any of them may work any job.
type jobRuntime struct {
	rt     *jobs.Runtime
	runner *syncrun.Runner
	sched  *syncrun.Scheduler
}

// startJobs migrates River's schema and starts the runtime with every
// worker: webhook events and their periodic sweep and retention on the
// default queue, sync runs of the configured services on their own queue.
func startJobs(ctx context.Context, c *webhookConfig, sc *syncConfig, pool *pgxpool.Pool,
	log *slog.Logger, reg prometheus.Registerer) (*jobRuntime, error) {
	if err := jobs.Migrate(ctx, pool); err != nil {
		return nil, err
	}
	runner, err := sc.newRunner(pool, log, reg, "")
	if err != nil {
		return nil, err
	}
	if len(runner.Jobs()) > 0 && *sc.runTimeout+30*time.Second >= *c.rescue {
		log.Warn("sync run timeout is close to the jobs rescue time: a long run may be queued again "+
			"while it still runs (its lock keeps the two apart)",
			"sync_run_timeout", *sc.runTimeout, "jobs_rescue_after", *c.rescue)
	}
	if err := runner.Announce(ctx); err != nil {
		return nil, err
	}

	workers := river.NewWorkers()
	river.AddWorker(workers, &webhook.Worker{DB: pool, Log: log, Metrics: webhook.NewMetrics(reg)})
	runner.AddWorkers(workers)
	sweeper := &webhook.Sweeper{DB: pool, After: *c.orphans, MaxAttempts: int(*c.attempts), Log: log}
	periodic := addPeriodic(workers, c, pool, sweeper, log)
	rt, err := jobs.New(pool, jobs.Config{Workers: workers, MaxWorkers: int(*c.workers),
		Queues:      map[string]int{syncrun.Queue: int(*sc.workers)},
		MaxAttempts: int(*c.attempts), StopGrace: *c.grace, RescueAfter: *c.rescue,
		JobTimeout: jobTimeout(*c.rescue), PeriodicJobs: periodic, Log: log})
	if err != nil {
		return nil, err
	}
	sweeper.Jobs = rt.Client()

	// The runtime outlives ctx: shutdown stops it after the writer drained.
	if err := rt.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, err
	}
	sched := runner.Scheduler(rt.Client())
	sched.Start(context.WithoutCancel(ctx))
	log.Info("jobs started", "sync", runner.Jobs())
	return &jobRuntime{rt: rt, runner: runner, sched: sched}, nil
}

// mountWebhooks mounts the webhook receivers and the dead-letter admin
// endpoints on r, and registers the inbox metrics.
func mountWebhooks(c *webhookConfig, jr *jobRuntime, pool *pgxpool.Pool, r chi.Router,
	toks *tokens.Store, log *slog.Logger, reg prometheus.Registerer) {
	client := jr.rt.Client()
	if *c.secret == "" && *c.bearer != "on" {
		log.Warn("captive-portal and RADIUS webhooks answer 503 until ROUTERLOGGER_PORTAL_SECRET " +
			"(or ROUTERLOGGER_PORTAL_BEARER=on) is set")
	}
	h := &webhook.Handler{DB: pool, Jobs: client, Secret: []byte(*c.secret),
		Bearer: *c.bearer == "on", Tokens: toks, MaxBody: *c.maxBody, MaxAttempts: int(*c.attempts),
		Log: log}
	h.Routes(r)
	dlq := &webhook.DLQ{DB: pool, Jobs: client, MaxAttempts: int(*c.attempts), Log: log}
	(&webhook.Admin{DLQ: dlq, Tokens: toks, Log: log}).Routes(r)
	reg.MustRegister(dlq.Collector(), webhook.InboxLagCollector(pool, log))
}

// addPeriodic registers the orphan sweep (always) and the guest data
// retention purge (when a retention is set) and returns their schedules.
func addPeriodic(workers *river.Workers, c *webhookConfig, pool *pgxpool.Pool,
	sweeper *webhook.Sweeper, log *slog.Logger) []*river.PeriodicJob {
	river.AddWorker(workers, &webhook.SweepWorker{Sweeper: sweeper})
	always := &river.PeriodicJobOpts{RunOnStart: true}
	periodic := []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(sweepEvery),
		func() (river.JobArgs, *river.InsertOpts) { return webhook.SweepArgs{}, nil }, always)}

	if *c.retention <= 0 {
		return periodic
	}
	river.AddWorker(workers, &webhook.RetentionWorker{
		Retention: &webhook.Retention{DB: pool, After: *c.retention, Log: log}})
	log.Info("guest data retention on", "after", *c.retention, "every", retentionEvery)
	return append(periodic, river.NewPeriodicJob(river.PeriodicInterval(retentionEvery),
		func() (river.JobArgs, *river.InsertOpts) { return webhook.RetentionArgs{}, nil }, always))
}

// jobTimeout keeps River's job timeout (1 minute) unless the rescue delay
// was lowered below it for a test; the rescue must come after the timeout
// cancelled the job in a live process.
func jobTimeout(rescue time.Duration) time.Duration {
	if rescue > 2*time.Minute {
		return 0
	}
	return rescue / 2
}

// stop stops queueing sync runs, then the runtime: no new jobs, running
// ones get their grace, then their context is cancelled.
func (jr *jobRuntime) stop(ctx context.Context) error {
	if jr == nil {
		return nil
	}
	jr.sched.Stop()
	return jr.rt.Stop(ctx)
}
