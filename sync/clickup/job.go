package clickup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/internal/breaker"
	"github.com/routerlogger/routerlogger/internal/clock"
	"github.com/routerlogger/routerlogger/sync/syncrun"
)

// JobName is the sync job's name.
const JobName = "clickup"

// Defaults of [Config].
const (
	DefaultOfflineAfter      = 15 * time.Minute
	DefaultFieldTTL          = time.Hour
	DefaultDiscoveryAttempts = 4
	DefaultDiscoveryBackoff  = time.Second
)

// pageSize is how many routers are read at a time.
const pageSize = 200

// PropertyAssigner assigns a router (by serial) to a property, as read
// from its task's Property field at at; source names where the
// assignment came from ("clickup").
type PropertyAssigner interface {
	AssignProperty(ctx context.Context, serial, property string, at time.Time, source string) error
}

// Config configures a [Job].
type Config struct {
	// ListID is the ClickUp list holding one task per router; required.
	ListID string
	// FieldNames overrides names of [DefaultFieldNames] by key; an empty
	// name turns that field off.
	FieldNames map[string]string
	// OfflineAfter is the age of the last reading past which a router is
	// offline (DefaultOfflineAfter).
	OfflineAfter time.Duration
	// GrafanaURL and DashboardUID make the Router Dashboard link
	// (GrafanaURL/d/UID?var-router=SERIAL); no link without them.
	GrafanaURL   string
	DashboardUID string
	// TaskStatus, when set, is the ClickUp status given to created and
	// updated tasks (a status of the list, such as "installed").
	TaskStatus string
	// Tags are set on created tasks.
	Tags []string
	// Property, when set, receives the property of each router's task.
	Property PropertyAssigner
	// FieldTTL is how long discovered field ids are trusted
	// (DefaultFieldTTL).
	FieldTTL time.Duration
	// DiscoveryAttempts and DiscoveryBackoff bound the field discovery's
	// retries within a run (DefaultDiscoveryAttempts, doubling from
	// DefaultDiscoveryBackoff).
	DiscoveryAttempts int
	DiscoveryBackoff  time.Duration
	Clock             clock.Clock
	Sleep             Sleeper
	Logger            *slog.Logger
}

// Job syncs routers to ClickUp tasks; it is a [syncrun.Job].
type Job struct {
	cfg    Config
	client *Client
	store  *store
	names  map[string]string
	log    *slog.Logger
}

var _ syncrun.Job = (*Job)(nil)

// New returns the job. It does no I/O.
func New(pool *pgxpool.Pool, client *Client, cfg Config) (*Job, error) {
	if cfg.ListID == "" {
		return nil, errors.New("clickup: a list id is required")
	}
	if client == nil || pool == nil {
		return nil, errors.New("clickup: a client and a pool are required")
	}
	cfg.OfflineAfter = orDefault(cfg.OfflineAfter, DefaultOfflineAfter)
	cfg.FieldTTL = orDefault(cfg.FieldTTL, DefaultFieldTTL)
	cfg.DiscoveryBackoff = orDefault(cfg.DiscoveryBackoff, DefaultDiscoveryBackoff)
	if cfg.DiscoveryAttempts <= 0 {
		cfg.DiscoveryAttempts = DefaultDiscoveryAttempts
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Sleep == nil {
		cfg.Sleep = clock.Sleep
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}

	names := map[string]string{}
	for k, v := range DefaultFieldNames {
		names[k] = v
	}
	for k, v := range cfg.FieldNames {
		if _, ok := DefaultFieldNames[k]; !ok {
			return nil, fmt.Errorf("clickup: unknown field key %q", k)
		}
		names[k] = v
	}
	return &Job{cfg: cfg, client: client, store: &store{db: pool}, names: names,
		log: cfg.Logger.With("job", JobName)}, nil
}

// Name returns the job's name.
func (j *Job) Name() string { return JobName }

// pass is the state of one run.
type pass struct {
	run    *syncrun.Run
	fields fieldSet
	now    time.Time
	// props holds each task's Property value, when properties are on.
	props map[string]string
	// rediscover is set when a field write said a field is gone; the
	// fields are read again (once per run) before the next router.
	rediscover, rediscovered bool
}

// Run does one pass over the routers, from the run's cursor. Its errors
// go out as they are: the client's already name ClickUp once, and the run
// is recorded under the job's name.
func (j *Job) Run(ctx context.Context, run *syncrun.Run) error {
	fs, err := j.fields(ctx, run, false)
	if err != nil {
		if wait, ok := RetryAfter(err); ok {
			run.Partial(err, wait)
			return nil
		}
		return err
	}
	p := &pass{run: run, fields: fs, now: j.cfg.Clock.Now()}
	if len(fs.missing) > 0 {
		j.log.Warn("clickup list lacks fields; they are skipped", "missing", fs.missing)
	}

	if err := j.loadProperties(ctx, p); err != nil {
		return j.stop(run, err)
	}

	after, _ := strconv.ParseInt(run.Resume, 10, 64)
	day := p.now.UTC().Truncate(24 * time.Hour)
	for {
		rs, err := j.store.routers(ctx, after, day, pageSize)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if ctx.Err() != nil { // the run's time is up: the next run resumes at the cursor
				return j.stop(run, ctx.Err())
			}
			if err := j.syncRouter(ctx, p, r); err != nil {
				return j.stop(run, err)
			}
			after = r.ID
			if err := run.Checkpoint(ctx, strconv.FormatInt(after, 10)); err != nil {
				return err
			}
		}
		if len(rs) < pageSize {
			break
		}
	}
	// The pass got to the end: a run that still ends partial (fields
	// missing) must not leave a cursor that skips routers next time.
	if err := run.Checkpoint(ctx, ""); err != nil {
		return err
	}

	if len(p.fields.missing) > 0 {
		run.Partial(fmt.Errorf("clickup: list %s lacks fields %v; discovering them again",
			j.cfg.ListID, p.fields.missing), 0)
	}
	return nil
}

// stop ends the pass on an error that stops every router: a rate limit
// ends the run partial (resumed at the cursor after the wait), as do an
// open breaker and the end of the run's time; anything else fails it.
func (j *Job) stop(run *syncrun.Run, err error) error {
	if wait, ok := RetryAfter(err); ok {
		run.Partial(err, wait)
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, breaker.ErrOpen) {
		run.Partial(err, 0)
		return nil
	}
	return err
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
