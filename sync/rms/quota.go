package rms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// QuotaError refuses a request that would exceed the monthly quota. It
// matches [ErrQuota] with errors.Is.
type QuotaError struct {
	// Quota is the monthly limit.
	Quota int64
	// Reset is when the next month starts (UTC).
	Reset time.Time
}

// Error gives the reason a run stopped.
func (e *QuotaError) Error() string {
	return fmt.Sprintf("rms: monthly quota of %d requests used (requests resume %s)",
		e.Quota, e.Reset.Format(time.DateOnly))
}

// Is matches ErrQuota.
func (e *QuotaError) Is(target error) bool { return target == ErrQuota }

// QuotaMeter counts every RMS request in table rms_quota_requests per
// calendar month (UTC, on the database clock), atomically across
// instances, and refuses one that would exceed the quota. It is a [Meter].
type QuotaMeter struct {
	db    *pgxpool.Pool
	quota int64
	m     *metrics
}

// NewQuotaMeter returns a meter with a monthly quota of requests (0:
// unlimited, only counted). reg may be nil. It does no I/O.
func NewQuotaMeter(pool *pgxpool.Pool, quota int64, reg prometheus.Registerer) (*QuotaMeter, error) {
	m, err := newMetrics(reg)
	if err != nil {
		return nil, err
	}
	m.limit.Set(float64(quota))
	return &QuotaMeter{db: pool, quota: quota, m: m}, nil
}

// Take counts one request, or refuses it with a [*QuotaError] when the
// month's count has reached the quota.
func (q *QuotaMeter) Take(ctx context.Context) error {
	var n int64
	var month time.Time
	err := q.db.QueryRow(ctx, `
		INSERT INTO rms_quota_requests AS q (month, requests, quota)
		VALUES (date_trunc('month', now() AT TIME ZONE 'UTC')::date, 1, $1)
		ON CONFLICT (month) DO UPDATE SET requests = q.requests + 1, quota = $1, updated_at = now()
		WHERE $1 = 0 OR q.requests < $1
		RETURNING requests, month`, q.quota).Scan(&n, &month)
	if errors.Is(err, pgx.ErrNoRows) {
		q.m.refused.Inc()
		return q.refusal(ctx)
	}
	if err != nil {
		return fmt.Errorf("rms: count request against the quota: %w", err)
	}

	q.m.requests.Inc()
	q.m.used.Set(float64(n))
	return nil
}

// refusal builds the error of a refused request.
func (q *QuotaMeter) refusal(ctx context.Context) error {
	var next time.Time
	if err := q.db.QueryRow(ctx, `
		SELECT (date_trunc('month', now() AT TIME ZONE 'UTC') + interval '1 month')
			AT TIME ZONE 'UTC'`).Scan(&next); err != nil {
		return fmt.Errorf("rms: read quota month: %w", err)
	}
	q.m.used.Set(float64(q.quota))
	return &QuotaError{Quota: q.quota, Reset: next.UTC()}
}

// metrics are the RMS client's.
type metrics struct {
	requests prometheus.Counter
	refused  prometheus.Counter
	used     prometheus.Gauge
	limit    prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "routerlogger_rms_requests_total",
			Help: "Requests this instance made to RMS (retries included).",
		}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "routerlogger_rms_quota_refused_requests_total",
			Help: "RMS requests not made because the monthly quota was used.",
		}),
		used: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "routerlogger_rms_quota_used_requests",
			Help: "RMS requests counted this month (UTC) by all instances, at this one's last request.",
		}),
		limit: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "routerlogger_rms_quota_limit_requests",
			Help: "Monthly RMS request quota (0: unlimited).",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.refused, m.used, m.limit} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("rms: register metrics: %w", err)
		}
	}
	return m, nil
}
