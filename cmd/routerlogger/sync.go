package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/routerlogger/routerlogger/internal/breaker"
	"github.com/routerlogger/routerlogger/internal/db"
	"github.com/routerlogger/routerlogger/internal/locks"
	"github.com/routerlogger/routerlogger/sync/syncrun"
)

func init() {
	commands["sync"] = command{"run one sync job (rms, clickup, geo) in the foreground", runSync}
}

// syncService is an outside service whose sync job `sync`, `worker` and
// serve can run. Each service's file adds one to syncServices in init.
type syncService struct {
	summary string
	// register registers the service's settings on f.
	register func(f *flags) syncSettings
}

// syncServices holds every sync service by job name.
var syncServices = map[string]syncService{}

// syncSettings are one service's resolved settings.
type syncSettings interface {
	// configured reports whether the settings name the service (a token,
	// a list); a service that is not configured is not scheduled, and
	// `sync NAME --once` refuses it with the reason.
	configured() error
	// interval is how often the job runs.
	interval() time.Duration
	// job builds the job, without I/O.
	job(d syncDeps) (syncrun.Job, error)
}

// syncDeps is what a sync job may be built with.
type syncDeps struct {
	pool *pgxpool.Pool
	log  *slog.Logger
	reg  prometheus.Registerer
	// http returns the client for one outside service: its own timeout
	// and circuit breaker (state in routerlogger_breaker_state).
	http func(service string) *http.Client
}

// syncConfig is the settings shared by every sync job, and each service's.
type syncConfig struct {
	runTimeout  *time.Duration
	httpTimeout *time.Duration
	backoff     *time.Duration
	lease       *time.Duration
	lockWait    *time.Duration
	workers     *int64
	services    map[string]syncSettings
}

// registerSync registers the shared sync settings and those of the named
// services (every service when names is empty).
func registerSync(f *flags, names ...string) *syncConfig {
	c := f.cfg
	sc := &syncConfig{
		runTimeout: c.Duration("sync-run-timeout", envs("SYNC_RUN_TIMEOUT"), syncrun.DefaultRunTimeout,
			10*time.Second, time.Hour, "longest sync run; a longer sync resumes in the next run"),
		httpTimeout: c.Duration("sync-http-timeout", envs("SYNC_HTTP_TIMEOUT"), 30*time.Second,
			time.Second, 10*time.Minute, "limit of one request to an outside service"),
		backoff: c.Duration("sync-backoff", envs("SYNC_BACKOFF"), syncrun.DefaultBackoffBase,
			time.Second, 24*time.Hour, "first wait after a failed or partial run (doubles per failure)"),
		lease: c.Duration("sync-lock-lease", envs("SYNC_LOCK_LEASE"), locks.DefaultLease,
			time.Second, time.Hour, "a dead instance's sync lock is free after this"),
		lockWait: c.Duration("sync-lock-wait", envs("SYNC_LOCK_WAIT"), 2*time.Second, 0,
			10*time.Minute, "wait for a job's lock held elsewhere before the run is skipped"),
		workers: c.Int("sync-workers", envs("SYNC_WORKERS"), 2, 1, 100,
			"sync runs worked at once by this process (different jobs; one job never overlaps itself)"),
		services: map[string]syncSettings{},
	}
	if len(names) == 0 {
		names = syncNames()
	}
	for _, n := range names {
		sc.services[n] = syncServices[n].register(f)
	}
	return sc
}

// syncNames returns the service names, sorted.
func syncNames() []string {
	names := make([]string, 0, len(syncServices))
	for n := range syncServices {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// newRunner builds the runner with the jobs of every configured service
// (or of the one named by only). It does no I/O.
func (sc *syncConfig) newRunner(pool *pgxpool.Pool, log *slog.Logger, reg prometheus.Registerer,
	only string) (*syncrun.Runner, error) {
	lk, err := locks.New(pool, locks.Options{Lease: *sc.lease, Wait: *sc.lockWait, Logger: log,
		Registerer: reg})
	if err != nil {
		return nil, err
	}
	r, err := syncrun.NewRunner(pool, syncrun.Options{Locks: lk, RunTimeout: *sc.runTimeout,
		BackoffBase: *sc.backoff, Logger: log, Registerer: reg})
	if err != nil {
		return nil, err
	}

	deps := syncDeps{pool: pool, log: log, reg: reg, http: sc.httpClients(reg)}
	for _, name := range syncNames() {
		s, ok := sc.services[name]
		if !ok || (only != "" && name != only) {
			continue
		}
		if err := s.configured(); err != nil {
			if only != "" {
				return nil, fmt.Errorf("sync %s: %w", name, err)
			}
			log.Info("sync job not configured", "job", name, "reason", err)
			continue
		}
		job, err := s.job(deps)
		if err != nil {
			return nil, fmt.Errorf("sync %s: %w", name, err)
		}
		if err := r.Register(job, s.interval()); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// httpClients returns the client factory: one client and breaker per
// service, made once.
func (sc *syncConfig) httpClients(reg prometheus.Registerer) func(string) *http.Client {
	clients := map[string]*http.Client{}
	return func(service string) *http.Client {
		if c, ok := clients[service]; ok {
			return c
		}
		c := &http.Client{Timeout: *sc.httpTimeout,
			Transport: breaker.New(service, nil, breaker.Settings{Registerer: reg})}
		clients[service] = c
		return c
	}
}

const syncUsage = `sync NAME --once [flags]   (NAME: %s)`

// runSync runs one job now, in the foreground, and prints its run. It
// fails (exit 1) when the run failed; ok, partial and skipped exit 0.
func runSync(ctx context.Context, e *env, args []string) error {
	usage := fmt.Sprintf(syncUsage, strings.Join(syncNames(), ", "))
	if done, err := subcommandHelp(e, args, usage); done {
		return err
	}
	name := args[0]
	if _, ok := syncServices[name]; !ok {
		fmt.Fprintf(e.stderr, "routerlogger sync: unknown job %q\nUsage: routerlogger %s\n", name, usage)
		return errUsage
	}

	f := newFlags(e, "sync "+name, usage)
	url := f.databaseURL()
	once := f.cfg.Bool("once", nil, false,
		"run the job once now, ignoring any back-off (required; the worker and serve schedule jobs)")
	sc := registerSync(f, name)
	if err := f.parse(args[1:]); err != nil {
		return err
	}
	if !*once {
		fmt.Fprintf(e.stderr, "routerlogger sync %s: pass --once to run it now; "+
			"`routerlogger worker` (or serve) runs it on its schedule\n", name)
		return errUsage
	}
	log := f.logger()

	pool, err := openPool(ctx, *url, 4, false)
	if err != nil {
		return err
	}
	defer pool.Close()
	if _, err := db.Migrate(ctx, pool, log, db.TimescaleAuto); err != nil {
		return err
	}
	r, err := sc.newRunner(pool, log, prometheus.NewRegistry(), name)
	if err != nil {
		return err
	}

	res, err := r.RunOnce(ctx, name)
	if err != nil {
		return err
	}
	printRun(e, res)
	if ctx.Err() != nil {
		return fmt.Errorf("sync %s interrupted; the next run resumes where it stopped", name)
	}
	if res.Status == syncrun.StatusFailed {
		return errors.New("sync " + name + " failed: " + res.Error)
	}
	return nil
}

// printRun prints a run in one line, then its reason.
func printRun(e *env, res syncrun.Result) {
	c := res.Counts
	fmt.Fprintf(e.stdout, "%s: %s (run %d): fetched %d, changed %d, failed %d, skipped %d\n",
		res.Job, res.Status, res.RunID, c.Fetched, c.Changed, c.Failed, c.Skipped)
	if res.Error != "" {
		fmt.Fprintf(e.stdout, "  %s\n", res.Error)
	}
	for i, msg := range res.Errors {
		if i == 3 {
			fmt.Fprintf(e.stdout, "  … %d more in sync_runs.errors (run %d)\n", len(res.Errors)-i, res.RunID)
			break
		}
		fmt.Fprintf(e.stdout, "  %s\n", msg)
	}
	if !res.RetryAt.IsZero() {
		fmt.Fprintf(e.stdout, "  next attempt after %s\n", res.RetryAt.UTC().Format(time.RFC3339))
	}
}
