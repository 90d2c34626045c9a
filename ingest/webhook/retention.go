package webhook

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
)

// RetentionKind is the River kind of [RetentionArgs].
const RetentionKind = "portal_guest_retention"

// piiExtraKeys are keys of portal_events.extra that may carry a guest's
// name or e-mail; the portal's named email and name fields are columns.
var piiExtraKeys = []string{"email", "name", "guest_email", "guest_name", "first_name", "last_name",
	"full_name"}

// RetentionArgs is the periodic job that runs [Retention.Purge].
type RetentionArgs struct{}

// Kind returns [RetentionKind].
func (RetentionArgs) Kind() string { return RetentionKind }

// Retention erases guests' e-mail and name from sessions that ended more
// than After ago: portal_sessions.email, and email, name and the
// name-like keys of extra in their inbox events. The session stays, with
// its MACs and times; later events of the session carry their own data
// until the next purge. Purging is idempotent.
type Retention struct {
	// DB holds the sessions and the inbox.
	DB DB
	// After is how long after its end a session keeps its guest data.
	After time.Duration
	// Log receives what a purge did; nil means slog.Default.
	Log *slog.Logger
}

// Purge erases the guest data that is due and returns how many sessions
// and inbox events it changed.
func (p *Retention) Purge(ctx context.Context) (sessions, events int64, err error) {
	if p.After <= 0 {
		return 0, 0, fmt.Errorf("guest retention: After must be positive, got %s", p.After)
	}
	tx, err := p.DB.Begin(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("guest retention: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	// Events first, while their sessions still show which are due.
	const ev = `UPDATE portal_events e SET email = NULL, name = NULL, extra = e.extra - $2::text[]
		FROM portal_sessions s
		WHERE s.session_id = e.session_id AND s.ended_at < now() - $1::interval
			AND (e.email IS NOT NULL OR e.name IS NOT NULL OR e.extra ?| $2::text[])`
	tag, err := tx.Exec(ctx, ev, p.After, piiExtraKeys)
	if err != nil {
		return 0, 0, fmt.Errorf("guest retention: events: %w", err)
	}
	events = tag.RowsAffected()

	const ses = `UPDATE portal_sessions SET email = NULL
		WHERE ended_at < now() - $1::interval AND email IS NOT NULL`
	if tag, err = tx.Exec(ctx, ses, p.After); err != nil {
		return 0, 0, fmt.Errorf("guest retention: sessions: %w", err)
	}
	sessions = tag.RowsAffected()

	if err := tx.Commit(ctx); err != nil {
		return 0, 0, fmt.Errorf("guest retention: commit: %w", err)
	}
	log := p.logger().Debug
	if sessions+events > 0 {
		log = p.logger().Info
	}
	log("guest data erased", "sessions", sessions, "events", events, "ended_more_than", p.After)
	return sessions, events, nil
}

func (p *Retention) logger() *slog.Logger {
	if p.Log == nil {
		return slog.Default()
	}
	return p.Log
}

// RetentionWorker runs [RetentionArgs] jobs.
type RetentionWorker struct {
	river.WorkerDefaults[RetentionArgs]
	Retention *Retention
}

// Work runs one purge.
func (w *RetentionWorker) Work(ctx context.Context, _ *river.Job[RetentionArgs]) error {
	_, _, err := w.Retention.Purge(ctx)
	return err
}
