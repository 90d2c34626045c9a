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

// Retention erases guests' personal data from sessions that ended more
// than After ago: the e-mail of portal_sessions; the username, e-mail,
// name and name-like keys of extra of their inbox events; the RADIUS
// User-Name of stopped accounting sessions and of their records; and the
// stored payload of refused portal and RADIUS deliveries received that
// long ago (their reason stays). Sessions stay, with their MACs, times and
// byte totals; open sessions keep their data. Purging is idempotent.
type Retention struct {
	// DB holds the sessions and the inbox.
	DB DB
	// After is how long after its end a session keeps its guest data.
	After time.Duration
	// Log receives what a purge did; nil means slog.Default.
	Log *slog.Logger
}

// Purged counts the rows a purge changed.
type Purged struct {
	Sessions, Events, Radius, Rejects int64
}

// purgeSteps are the purge's statements, in order ($1 = After, $2 = the
// extra keys); each erases one kind of guest data. Events go first, while
// their sessions still show which are due.
var purgeSteps = []struct {
	name  string
	sql   string
	count func(*Purged) *int64
}{
	{"events", `UPDATE portal_events e
		SET username = NULL, email = NULL, name = NULL, extra = e.extra - $2::text[]
		FROM portal_sessions s
		WHERE s.session_id = e.session_id AND s.ended_at < now() - $1::interval
			AND (e.username IS NOT NULL OR e.email IS NOT NULL OR e.name IS NOT NULL
				OR e.extra ?| $2::text[])`,
		func(p *Purged) *int64 { return &p.Events }},
	{"sessions", `UPDATE portal_sessions SET email = NULL
		WHERE ended_at < now() - $1::interval AND email IS NOT NULL AND $2::text[] IS NOT NULL`,
		func(p *Purged) *int64 { return &p.Sessions }},
	{"radius records", `UPDATE radius_accounting a
		SET user_name = NULL, attributes = a.attributes - 'User-Name'
		FROM radius_sessions s
		WHERE s.session_id = a.session_id AND s.guest_mac = a.guest_mac
			AND s.stopped_at < now() - $1::interval AND $2::text[] IS NOT NULL
			AND (a.user_name IS NOT NULL OR a.attributes ? 'User-Name')`,
		func(p *Purged) *int64 { return &p.Radius }},
	{"radius sessions", `UPDATE radius_sessions SET user_name = NULL
		WHERE stopped_at < now() - $1::interval AND user_name IS NOT NULL
			AND $2::text[] IS NOT NULL`,
		func(p *Purged) *int64 { return &p.Radius }},
	{"rejects", `UPDATE rejects SET payload = NULL
		WHERE source IN ('portal', 'radius') AND received_at < now() - $1::interval
			AND payload IS NOT NULL AND $2::text[] IS NOT NULL`,
		func(p *Purged) *int64 { return &p.Rejects }},
}

// Purge erases the guest data that is due, in one transaction, and says
// how many rows it changed.
func (p *Retention) Purge(ctx context.Context) (Purged, error) {
	var out Purged
	if p.After <= 0 {
		return out, fmt.Errorf("guest retention: After must be positive, got %s", p.After)
	}
	tx, err := p.DB.Begin(ctx)
	if err != nil {
		return out, fmt.Errorf("guest retention: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	for _, step := range purgeSteps {
		tag, err := tx.Exec(ctx, step.sql, p.After, piiExtraKeys)
		if err != nil {
			return Purged{}, fmt.Errorf("guest retention: %s: %w", step.name, err)
		}
		*step.count(&out) += tag.RowsAffected()
	}
	if err := tx.Commit(ctx); err != nil {
		return Purged{}, fmt.Errorf("guest retention: commit: %w", err)
	}

	log := p.logger().Debug
	if out != (Purged{}) {
		log = p.logger().Info
	}
	log("guest data erased", "sessions", out.Sessions, "events", out.Events, "radius", out.Radius,
		"rejects", out.Rejects, "ended_more_than", p.After)
	return out, nil
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
	_, err := w.Retention.Purge(ctx)
	return err
}
