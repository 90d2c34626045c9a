package webhook

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
)

// ErrNotDeadLettered is returned by [DLQ.Replay] for an event that is not
// in the dead-letter queue and never was, and by [DLQ.Discard] and
// [DLQ.Get] for one that is not waiting in it.
var ErrNotDeadLettered = errors.New("event is not dead-lettered")

// ErrDiscarded is returned by [DLQ.Replay] for a discarded event when the
// replay is not forced.
var ErrDiscarded = errors.New("event was discarded; force the replay to run it again")

// DeadLetter is one row of the view webhook_dlq.
type DeadLetter struct {
	EventID   int64
	Type      string
	SessionID string
	EventAt   time.Time
	JobID     int64
	Attempts  int
	LastError string
	FailedAt  time.Time
}

// DLQ is the dead-letter queue of portal events.
type DLQ struct {
	// DB holds webhook_dead_letters.
	DB DB
	// Jobs enqueues replayed events.
	Jobs Enqueuer
	// MaxAttempts of a replayed job; zero means the runtime's default.
	MaxAttempts int
	// Log receives collector failures; nil means slog.Default.
	Log *slog.Logger
}

// Replay re-enqueues a dead-lettered event. It is idempotent: replaying
// an event already replayed (and not failed again since) enqueues nothing
// and returns false. A discarded event returns [ErrDiscarded] unless force
// is set, which takes it out of the discarded state and replays it.
func (q *DLQ) Replay(ctx context.Context, eventID int64, force bool) (bool, error) {
	tx, err := q.DB.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("replay event %d: begin: %w", eventID, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	const mark = `UPDATE webhook_dead_letters d SET replayed_at = now(), discarded_at = NULL
		FROM portal_events e
		WHERE d.event_id = $1 AND e.id = d.event_id AND d.replayed_at IS NULL
			AND (d.discarded_at IS NULL OR $2)
		RETURNING e.session_id`
	var session string
	err = tx.QueryRow(ctx, mark, eventID, force).Scan(&session)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, q.notPending(ctx, tx, eventID)
	}
	if err != nil {
		return false, fmt.Errorf("replay event %d: mark: %w", eventID, err)
	}

	args := ProcessArgs{EventID: eventID, SessionID: session}
	opts := &river.InsertOpts{MaxAttempts: q.MaxAttempts}
	if _, err := q.Jobs.InsertTx(ctx, tx, args, opts); err != nil {
		return false, fmt.Errorf("replay event %d: enqueue: %w", eventID, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("replay event %d: commit: %w", eventID, err)
	}
	return true, nil
}

// notPending tells an already replayed event (nil) from a discarded one
// and an unknown one.
func (q *DLQ) notPending(ctx context.Context, tx pgx.Tx, eventID int64) error {
	var exists, discarded bool
	const sql = `SELECT count(*) > 0, coalesce(bool_or(discarded_at IS NOT NULL), false)
		FROM webhook_dead_letters WHERE event_id = $1`
	if err := tx.QueryRow(ctx, sql, eventID).Scan(&exists, &discarded); err != nil {
		return fmt.Errorf("replay event %d: look up: %w", eventID, err)
	}
	switch {
	case !exists:
		return fmt.Errorf("replay event %d: %w", eventID, ErrNotDeadLettered)
	case discarded:
		return fmt.Errorf("replay event %d: %w", eventID, ErrDiscarded)
	}
	return nil
}

// Discard takes a waiting dead letter out of the queue for good: it no
// longer counts in the depth and is replayed only when forced. It is
// idempotent: discarding a discarded event returns false. An event that
// is not waiting (unknown, or replayed and not failed since) returns
// [ErrNotDeadLettered].
func (q *DLQ) Discard(ctx context.Context, eventID int64) (bool, error) {
	const sql = `UPDATE webhook_dead_letters SET discarded_at = now()
		WHERE event_id = $1 AND replayed_at IS NULL AND discarded_at IS NULL`
	tag, err := q.DB.Exec(ctx, sql, eventID)
	if err != nil {
		return false, fmt.Errorf("discard event %d: %w", eventID, err)
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}

	var discarded bool
	const was = `SELECT EXISTS (SELECT 1 FROM webhook_dead_letters
		WHERE event_id = $1 AND discarded_at IS NOT NULL)`
	if err := q.DB.QueryRow(ctx, was, eventID).Scan(&discarded); err != nil {
		return false, fmt.Errorf("discard event %d: look up: %w", eventID, err)
	}
	if !discarded {
		return false, fmt.Errorf("discard event %d: %w", eventID, ErrNotDeadLettered)
	}
	return false, nil
}

// Get returns the waiting dead letter of an event, or
// [ErrNotDeadLettered].
func (q *DLQ) Get(ctx context.Context, eventID int64) (DeadLetter, error) {
	rows, _ := q.DB.Query(ctx, selectDLQ+" WHERE event_id = $1", eventID)
	d, err := pgx.CollectExactlyOneRow(rows, scanDeadLetter)
	if errors.Is(err, pgx.ErrNoRows) {
		return DeadLetter{}, fmt.Errorf("dead letter %d: %w", eventID, ErrNotDeadLettered)
	}
	if err != nil {
		return DeadLetter{}, fmt.Errorf("dead letter %d: %w", eventID, err)
	}
	return d, nil
}

// Depth returns the number of events waiting in the dead-letter queue.
func (q *DLQ) Depth(ctx context.Context) (int64, error) {
	var n int64
	if err := q.DB.QueryRow(ctx, "SELECT count(*) FROM webhook_dlq").Scan(&n); err != nil {
		return 0, fmt.Errorf("dlq depth: %w", err)
	}
	return n, nil
}

// selectDLQ reads [DeadLetter] rows from the view webhook_dlq.
const selectDLQ = `SELECT event_id, type, session_id, event_at, job_id, attempts, last_error,
		failed_at
	FROM webhook_dlq`

func scanDeadLetter(row pgx.CollectableRow) (DeadLetter, error) {
	var d DeadLetter
	err := row.Scan(&d.EventID, &d.Type, &d.SessionID, &d.EventAt, &d.JobID, &d.Attempts,
		&d.LastError, &d.FailedAt)
	return d, err
}

// List returns up to limit waiting dead letters, oldest failure first.
func (q *DLQ) List(ctx context.Context, limit int) ([]DeadLetter, error) {
	rows, _ := q.DB.Query(ctx, selectDLQ+" ORDER BY failed_at, event_id LIMIT $1", limit)
	out, err := pgx.CollectRows(rows, scanDeadLetter)
	if err != nil {
		return nil, fmt.Errorf("list dead letters: %w", err)
	}
	return out, nil
}

// dlqDepthDesc describes routerlogger_dlq_depth.
var dlqDepthDesc = prometheus.NewDesc("routerlogger_dlq_depth",
	"Events waiting in a dead-letter queue.", nil, prometheus.Labels{"source": RejectSource})

// Collector returns a Prometheus collector of routerlogger_dlq_depth that
// counts the queue at each scrape. A failed count is logged and the
// metric left out of that scrape.
func (q *DLQ) Collector() prometheus.Collector { return dlqCollector{q} }

type dlqCollector struct{ q *DLQ }

// Describe sends the metric's description.
func (c dlqCollector) Describe(ch chan<- *prometheus.Desc) { ch <- dlqDepthDesc }

// Collect counts the queue.
func (c dlqCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := c.q.Depth(ctx)
	if err != nil {
		log := c.q.Log
		if log == nil {
			log = slog.Default()
		}
		log.Warn("dlq depth not collected", "error", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(dlqDepthDesc, prometheus.GaugeValue, float64(n))
}
