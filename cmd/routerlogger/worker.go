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

	"github.com/routerlogger/routerlogger/internal/db"
	"github.com/routerlogger/routerlogger/internal/httpserver"
)

func init() {
	commands["worker"] = command{"work the durable jobs (sync runs, webhook events) until SIGTERM", runWorker}
}

// runWorker works the durable jobs, as serve does but without intake:
// sync runs of every configured service on their schedules, webhook
// events, the inbox sweep and the guest data retention. It serves /metrics
// and /healthz. Any number of workers and servers may run at once on one
// database; give them the same settings.
func runWorker(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "worker", "worker [flags]")
	url := f.databaseURL()
	maxConns := f.cfg.Int("db-max-conns", envs("DB_MAX_CONNS"), 8, 2, 1000, "database pool size")
	addr := f.cfg.Addr("metrics-addr", envs("METRICS_ADDR"), "127.0.0.1:9091",
		"listen address of /metrics and /healthz")
	wc := registerWebhooks(f)
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

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(db.PoolCollector(pool)...)
	jr, err := startJobs(ctx, wc, sc, pool, log, reg)
	if err != nil {
		return err
	}
	log.Info("worker started", "sync", jr.runner.Jobs(), "metrics", describeAddr(*addr))

	r := chi.NewRouter()
	r.Get("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "sync": jr.runner.Jobs()})
	})
	r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	hs := httpserver.New(*addr, r, httpserver.Timeouts{Read: 10 * time.Second, Write: 30 * time.Second,
		Idle: time.Minute, Shutdown: 5 * time.Second}, log)
	ln, err := hs.Listen()
	if err != nil {
		return errors.Join(err, jr.stop(context.WithoutCancel(ctx)))
	}
	// /metrics outlives ctx until the jobs have stopped, so the grace
	// period of running jobs can still be watched.
	srvCtx, stopSrv := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSrv()
	served := make(chan error, 1)
	go func() { served <- hs.Serve(srvCtx, ln) }()
	var httpErr error
	select {
	case <-ctx.Done():
		log.Info("worker stopping: no new job starts, running ones get their grace",
			"grace", *wc.grace)
	case httpErr = <-served:
		served = nil
	}

	// Shutdown: no new job starts, running ones get the grace, then the
	// metrics endpoint and the pool.
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), *wc.grace+30*time.Second)
	defer cancel()
	jerr := jr.stop(stopCtx)
	stopSrv()
	if served != nil {
		httpErr = <-served
	}
	log.Info("worker stopped")
	return errors.Join(httpErr, jerr)
}
