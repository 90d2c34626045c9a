package main

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/riverqueue/river"

	"github.com/routerlogger/routerlogger/internal/db"
	"github.com/routerlogger/routerlogger/internal/httpserver"
	"github.com/routerlogger/routerlogger/internal/jobs"
)

func init() {
	commands["worker"] = command{"run the scheduled sync jobs until SIGINT or SIGTERM", runWorker}
}

// runWorker works the sync jobs of every configured service on their
// schedules, and serves /metrics and /healthz, until ctx ends. Several
// workers (and servers) may run at once: River elects one leader to insert
// the periodic jobs, and each job's lock keeps its runs apart.
func runWorker(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "worker", "worker [flags]")
	url := f.databaseURL()
	maxConns := f.cfg.Int("db-max-conns", envs("DB_MAX_CONNS"), 8, 2, 1000, "database pool size")
	addr := f.cfg.Addr("metrics-addr", envs("METRICS_ADDR"), "127.0.0.1:9091",
		"listen address of /metrics and /healthz")
	workers := f.cfg.Int("jobs-workers", envs("JOBS_WORKERS"), jobs.DefaultMaxWorkers, 1, 1000,
		"jobs worked at once")
	grace := f.cfg.Duration("jobs-stop-grace", envs("JOBS_STOP_GRACE"), jobs.DefaultStopGrace, 0,
		10*time.Minute, "time running jobs get to finish on shutdown before they are cancelled")
	rescue := f.cfg.Duration("jobs-rescue-after", envs("JOBS_RESCUE_AFTER"), 5*time.Minute,
		2*time.Minute, 24*time.Hour, "a job running this long is taken for stuck and retried")
	sc := registerSync(f)
	if err := f.parse(args); err != nil {
		return err
	}
	log := f.logger()

	pool, err := openPool(ctx, *url, int32(*maxConns), false)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := db.Migrate(ctx, pool, log, db.TimescaleAuto); err != nil {
		return err
	}
	if err := jobs.Migrate(ctx, pool); err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(db.PoolCollector(pool)...)
	runner, err := sc.newRunner(pool, log, reg, "")
	if err != nil {
		return err
	}
	if err := runner.Announce(ctx); err != nil {
		return err
	}

	w := river.NewWorkers()
	runner.AddWorkers(w)
	rt, err := jobs.New(pool, jobs.Config{Workers: w, PeriodicJobs: runner.PeriodicJobs(),
		MaxWorkers: int(*workers), StopGrace: *grace, RescueAfter: *rescue, Log: log})
	if err != nil {
		return err
	}
	if err := rt.Start(context.WithoutCancel(ctx)); err != nil {
		return err
	}
	log.Info("worker started", "jobs", runner.Jobs(), "metrics", describeAddr(*addr))

	r := chi.NewRouter()
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "jobs": runner.Jobs()})
	})
	r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	hs := httpserver.New(*addr, r, httpserver.Timeouts{Read: 10 * time.Second, Write: 30 * time.Second,
		Idle: time.Minute, Shutdown: 5 * time.Second}, log)
	ln, err := hs.Listen()
	if err != nil {
		return errors.Join(err, rt.Stop(context.WithoutCancel(ctx)))
	}
	httpErr := hs.Serve(ctx, ln)

	// Shutdown: no new job starts, running ones get the grace, then the pool.
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), *grace+30*time.Second)
	defer cancel()
	jerr := rt.Stop(stopCtx)
	log.Info("worker stopped")
	return errors.Join(httpErr, jerr)
}
