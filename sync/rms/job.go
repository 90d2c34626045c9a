package rms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/routerlogger/routerlogger/sync/syncrun"
)

// JobName is the job's name in sync_runs and its lock, sync:rms.
const JobName = "rms"

// DefaultPageSize is the devices asked for per page.
const DefaultPageSize = 100

// UsageScope is the RMS scope data usage needs.
const UsageScope = "company_device_statistics:read"

// JobOptions configure a [Job].
type JobOptions struct {
	// Pool is the RouterLogger database.
	Pool *pgxpool.Pool
	// Client configures the RMS client; its Meter is set by the job.
	Client ClientOptions
	// PageSize is the devices per page (DefaultPageSize).
	PageSize int
	// UsageDays is how many recent UTC days of data usage to fetch per
	// device and run, today included; 0 fetches none.
	UsageDays int
	// MonthlyQuota is the requests RMS may get per calendar month (UTC),
	// counted across instances; 0 is unlimited.
	MonthlyQuota int64
	// Now is the clock for the data-usage days (default time.Now).
	Now func() time.Time
	// Logger receives per-device detail at debug level.
	Logger *slog.Logger
	// Registerer, when set, receives the quota metrics.
	Registerer prometheus.Registerer
}

// Job is the RMS sync job for package sync/syncrun.
type Job struct {
	client    *Client
	store     *store
	pageSize  int
	usageDays int
	now       func() time.Time
	log       *slog.Logger
}

var _ syncrun.Job = (*Job)(nil)

// NewJob returns the job. It does no I/O.
func NewJob(o JobOptions) (*Job, error) {
	if o.Pool == nil {
		return nil, errors.New("rms: job needs a database pool")
	}
	meter, err := NewQuotaMeter(o.Pool, o.MonthlyQuota, o.Registerer)
	if err != nil {
		return nil, err
	}
	o.Client.Meter = meter
	if o.Client.Logger == nil {
		o.Client.Logger = o.Logger
	}
	c, err := NewClient(o.Client)
	if err != nil {
		return nil, err
	}

	j := &Job{client: c, store: &store{db: o.Pool}, pageSize: o.PageSize,
		usageDays: max(o.UsageDays, 0), now: o.Now, log: o.Logger}
	if j.pageSize <= 0 {
		j.pageSize = DefaultPageSize
	}
	if j.now == nil {
		j.now = time.Now
	}
	if j.log == nil {
		j.log = slog.Default()
	}
	return j, nil
}

// Name returns JobName.
func (j *Job) Name() string { return JobName }

// Run does one pass: every page of devices from the cursor run.Resume on,
// until a short or empty page or offset meta.total; each device upserted
// (and its recent data usage stored), the next offset checkpointed after
// each page. A 429 or the quota stops the pass at once as partial,
// keeping what was done; the next run resumes at the page refused.
func (j *Job) Run(ctx context.Context, run *syncrun.Run) error {
	p := &pass{Job: j, run: run, s: j.client.Session(), usage: j.usageDays > 0}
	offset := j.resume(run.Resume)
	defer func() {
		j.log.Debug("rms pass done", "requests", p.s.Requests, "offset", offset)
	}()

	for {
		page, err := p.s.Devices(ctx, j.pageSize, offset)
		if err != nil {
			return p.stop(fmt.Errorf("devices at offset %d: %w", offset, err))
		}
		run.AddFetched(len(page.Devices))

		for _, d := range page.Devices {
			if err := p.device(ctx, d); err != nil || p.stopped {
				return err
			}
		}

		offset += len(page.Devices)
		if len(page.Devices) < j.pageSize || (page.Total > 0 && offset >= page.Total) {
			return nil
		}
		if err := run.Checkpoint(ctx, strconv.Itoa(offset)); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// resume parses a cursor: the offset of the next page.
func (j *Job) resume(cursor string) int {
	if cursor == "" {
		return 0
	}
	n, err := strconv.Atoi(cursor)
	if err != nil || n < 0 {
		j.log.Warn("rms: unreadable cursor, starting from the first page", "cursor", cursor)
		return 0
	}
	return n
}

// pass is the state of one run.
type pass struct {
	*Job
	run     *syncrun.Run
	s       *Session
	usage   bool // data usage still fetched in this run
	stopped bool // the run stopped early (429, quota)
}

// stop ends the pass on err: a 429 or the quota make the run partial
// (nil error); anything else fails it. A 429 backs off as long as RMS
// says; the quota only the usual back-off (capped at the interval), not
// until the month ends: an operator who raises the quota expects the job
// back at its next tick, and a run under a spent quota costs no request.
func (p *pass) stop(err error) error {
	var qe *QuotaError
	switch {
	case IsRateLimited(err):
		p.stopped = true
		p.run.Partial(err, RetryAfter(err))
		return nil
	case errors.As(err, &qe):
		p.stopped = true
		p.run.Partial(qe, 0)
		return nil
	}
	return err
}

// device upserts d and fetches its data usage. Its error ends the pass;
// a device's own failure is recorded with [syncrun.Run.Fail].
func (p *pass) device(ctx context.Context, d Device) error {
	item := fmt.Sprintf("device %d (serial %s)", d.ID, d.Serial)
	id, changed, err := p.store.upsertDevice(ctx, d)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.run.Fail(item, err)
		p.log.Debug("rms device failed", "device", d.ID, "error", err)
		return nil
	}
	if changed {
		p.run.AddChanged(1)
	} else {
		p.run.AddSkipped(1)
	}
	p.log.Debug("rms device synced", "device", d.ID, "router", id, "changed", changed)

	if !p.usage {
		return nil
	}
	return p.dataUsage(ctx, item, d.ID, id)
}

// dataUsage fetches and stores the device's recent daily usage. A 403
// (the token lacks the statistics scope) is recorded once and turns data
// usage off for the rest of the run.
func (p *pass) dataUsage(ctx context.Context, item string, rmsID, routerID int64) error {
	to := p.now().UTC().Truncate(24 * time.Hour)
	from := to.AddDate(0, 0, 1-p.usageDays)
	to = to.Add(24*time.Hour - time.Second)

	days, err := p.s.DataUsage(ctx, rmsID, from, to)
	switch {
	case err == nil:
		if err := p.store.storeUsage(ctx, routerID, days); err != nil {
			p.run.Fail(item+" data usage", err)
		}
		return nil
	case IsForbidden(err):
		p.usage = false
		p.run.Fail("data usage", fmt.Errorf("%w: the token lacks the %s scope; "+
			"data usage skipped for the rest of the run", err, UsageScope))
		return nil
	case IsRateLimited(err), IsQuota(err), IsAuth(err), ctx.Err() != nil:
		return p.stop(err)
	}
	p.run.Fail(item+" data usage", err)
	return nil
}
