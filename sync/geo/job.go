// Package geo locates routers by their serving cell. Its [Job] (a
// syncrun job named "geo") takes each router's current cell from
// router_status, resolves it through a per-cell cache and, on a miss, the
// provider's process API (Unwired Labs shape, [Client]), and adds a row to
// the router's location history only when the router moved farther than
// a threshold from its last recorded position.
//
// Placeholder cells ([Locatable]) never reach the provider. An unknown
// cell ("No matches found") is cached as such. A refused key fails the
// run; a rate limit or an outage that outlasts the client's retry budget
// ends the run partial, and the next one resumes after the last router
// done.
package geo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/routerlogger/routerlogger/internal/clock"
	"github.com/routerlogger/routerlogger/sync/syncrun"
)

// Name is the job's name in sync_runs, its lock (sync:geo) and the
// command `routerlogger sync geo`.
const Name = "geo"

// Defaults of [Config].
const (
	DefaultFoundTTL        = 30 * 24 * time.Hour
	DefaultNotFoundTTL     = 7 * 24 * time.Hour
	DefaultMoveThresholdM  = 500.0
	DefaultCheckpointEvery = 50
)

// Config configures a [Job].
type Config struct {
	// Client asks the provider; required.
	Client *Client
	// FoundTTL and NotFoundTTL are how long a cached answer is used
	// (DefaultFoundTTL, DefaultNotFoundTTL).
	FoundTTL, NotFoundTTL time.Duration
	// MoveThresholdM is the distance in metres from the last recorded
	// position beyond which a router counts as moved
	// (DefaultMoveThresholdM).
	MoveThresholdM float64
	// CheckpointEvery is how many routers go between checkpoints
	// (DefaultCheckpointEvery).
	CheckpointEvery int
	// Clock dates cache rows and judges their age (the system clock).
	Clock clock.Clock
	// Logger gets per-router detail at debug level (slog.Default()).
	Logger *slog.Logger
	// Registerer, when set, receives the job's metrics.
	Registerer prometheus.Registerer
}

// Job is the geolocation sync job. It is safe to run from one goroutine
// at a time, which the runner's lock ensures.
type Job struct {
	store store
	cfg   Config
	log   *slog.Logger
	m     *metrics
}

var _ syncrun.Job = (*Job)(nil)

// New returns the job on pool. It does no I/O.
func New(pool *pgxpool.Pool, cfg Config) (*Job, error) {
	if cfg.Client == nil {
		return nil, errors.New("geo: a job needs a client")
	}
	cfg.FoundTTL = orDefault(cfg.FoundTTL, DefaultFoundTTL)
	cfg.NotFoundTTL = orDefault(cfg.NotFoundTTL, DefaultNotFoundTTL)
	if cfg.MoveThresholdM <= 0 {
		cfg.MoveThresholdM = DefaultMoveThresholdM
	}
	if cfg.CheckpointEvery <= 0 {
		cfg.CheckpointEvery = DefaultCheckpointEvery
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}

	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Job{store: store{db: pool}, cfg: cfg, log: cfg.Logger.With("job", Name), m: m}, nil
}

// Name returns "geo".
func (j *Job) Name() string { return Name }

// Run does one pass over every router after the resume point. It counts
// fetched for each cell the provider answered for (found or not),
// changed for each history row added, skipped for each router left alone
// (placeholder or unknown cell, or not moved), and fails a router whose
// answer was unusable. A refused key or a wrong endpoint fails the run;
// an unavailable provider ends it partial after a checkpoint.
func (j *Job) Run(ctx context.Context, run *syncrun.Run) error {
	after := j.resumePoint(run.Resume)
	routers, err := j.store.routerCells(ctx, after)
	if err != nil {
		return err
	}

	done := after
	for i, rc := range routers {
		err := j.locateRouter(ctx, run, rc)
		switch {
		case errors.Is(err, ErrKey):
			return fmt.Errorf("%w (check the API key and the account's balance)", err)
		case errors.Is(err, ErrUnavailable):
			return j.stopPartial(ctx, run, done, err)
		case err != nil:
			return err
		}

		done = rc.id
		if (i+1)%j.cfg.CheckpointEvery == 0 {
			if err := run.Checkpoint(ctx, strconv.FormatInt(done, 10)); err != nil {
				return err
			}
		}
	}
	return nil
}

// resumePoint reads the cursor: the id of the last router done.
func (j *Job) resumePoint(cursor string) int64 {
	if cursor == "" {
		return 0
	}
	id, err := strconv.ParseInt(cursor, 10, 64)
	if err != nil || id < 0 {
		j.log.Warn("geo: ignoring unreadable cursor", "cursor", cursor)
		return 0
	}
	return id
}

// stopPartial ends the run early after the provider stayed unavailable,
// keeping the routers done so far.
func (j *Job) stopPartial(ctx context.Context, run *syncrun.Run, done int64, err error) error {
	if cerr := run.Checkpoint(ctx, strconv.FormatInt(done, 10)); cerr != nil {
		return cerr
	}
	j.log.Warn("geo: provider unavailable, stopping early", "error", err,
		"retry_after", RetryAfter(err))
	run.Partial(err, RetryAfter(err))
	return nil
}

// locateRouter resolves one router's cell and records a move. It returns
// only errors that stop the run; a bad answer for its cell fails the
// router alone.
func (j *Job) locateRouter(ctx context.Context, run *syncrun.Run, rc routerCell) error {
	c, reason := Locatable(rc.observed)
	if reason != "" {
		j.log.Debug("geo: no cell to locate", "router", rc.serial, "reason", reason)
		run.AddSkipped(1)
		return nil
	}

	loc, err := j.resolve(ctx, run, c)
	switch {
	case errors.Is(err, ErrKey), errors.Is(err, ErrEndpoint), errors.Is(err, ErrUnavailable),
		ctx.Err() != nil:
		return err
	case err != nil:
		run.Fail(rc.serial, err)
		return nil
	case !loc.Found:
		j.log.Debug("geo: cell unknown to the provider", "router", rc.serial, "cell", c)
		run.AddSkipped(1)
		return nil
	}

	moved, err := j.record(ctx, rc, c, loc)
	if err != nil {
		return err
	}
	if moved {
		run.AddChanged(1)
	} else {
		run.AddSkipped(1)
	}
	return nil
}

// resolve returns c's location from a fresh cache row or the provider,
// caching the provider's answer (found or not).
func (j *Job) resolve(ctx context.Context, run *syncrun.Run, c Cell) (Location, error) {
	now := j.cfg.Clock.Now()
	cc, ok, err := j.store.cached(ctx, c)
	if err != nil {
		return Location{}, err
	}
	if ok && now.Sub(cc.lookedUpAt) < j.ttl(cc.loc.Found) {
		j.m.cacheHits.Inc()
		return cc.loc, nil
	}

	loc, err := j.cfg.Client.Locate(ctx, c)
	j.m.lookup(loc, err)
	switch {
	case errors.Is(err, ErrKey), errors.Is(err, ErrEndpoint), errors.Is(err, ErrUnavailable):
		return Location{}, err // about the provider, not this cell
	case err != nil:
		return Location{}, fmt.Errorf("cell %s: %w", c, err)
	}
	run.AddFetched(1)
	if err := j.store.save(ctx, c, loc, now); err != nil {
		return Location{}, err
	}
	return loc, nil
}

func (j *Job) ttl(found bool) time.Duration {
	if found {
		return j.cfg.FoundTTL
	}
	return j.cfg.NotFoundTTL
}

// record adds a history row when the router has none yet or moved beyond
// the threshold from its last one, and reports whether it did. The job's
// lock keeps two runs from racing here.
func (j *Job) record(ctx context.Context, rc routerCell, c Cell, loc Location) (bool, error) {
	lat, lon, ok, err := j.store.lastLocation(ctx, rc.id)
	if err != nil {
		return false, err
	}
	var moved *float64
	if ok {
		d := Distance(lat, lon, loc.Lat, loc.Lon)
		if d <= j.cfg.MoveThresholdM {
			j.log.Debug("geo: router has not moved", "router", rc.serial, "distance_m", d)
			return false, nil
		}
		moved = &d
	}

	at := j.cfg.Clock.Now()
	if rc.at != nil {
		at = *rc.at
	}
	if err := j.store.addLocation(ctx, rc.id, at, c, loc, moved); err != nil {
		return false, err
	}
	j.log.Debug("geo: router located", "router", rc.serial, "cell", c, "lat", loc.Lat,
		"lon", loc.Lon, "moved_m", moved)
	return true, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
