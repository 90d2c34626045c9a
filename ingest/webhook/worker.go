package webhook

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// JobKind is the River kind of [ProcessArgs].
const JobKind = "portal_event"

// ProcessArgs is the job that applies one inbox event to its session.
type ProcessArgs struct {
	EventID   int64  `json:"event_id"`
	SessionID string `json:"session_id"`
}

// Kind returns [JobKind].
func (ProcessArgs) Kind() string { return JobKind }

// Worker applies inbox events to portal_sessions. Register it with
// river.AddWorker on the job runtime's workers.
type Worker struct {
	river.WorkerDefaults[ProcessArgs]
	// DB is where the inbox and the sessions live.
	DB DB
	// Backoff is the wait before retry n (1-based); nil keeps River's
	// policy.
	Backoff func(attempt int) time.Duration
	// Log receives dead-letter warnings; nil means slog.Default.
	Log *slog.Logger
	// Metrics records each attempt; nil records nothing.
	Metrics *Metrics
}

// SessionEvent is what the session derivation needs of an inbox event.
type SessionEvent struct {
	Type      string
	GuestMAC  string
	RouterMAC string
	Email     string
	At        time.Time
}

// Session is a portal session as derived from its events.
type Session struct {
	GuestMAC  string
	RouterMAC string
	Email     string
	Started   *time.Time
	Ended     *time.Time
	EndReason string
}

// Derive computes a session from all its events, in any order: started is
// the earliest start event, ended the latest end event (so a start that
// arrives after the end never reopens it), and MACs and e-mail come from
// the earliest event that has them. Other event types count only for the
// MACs and e-mail.
func Derive(events []SessionEvent) Session {
	sorted := sortEvents(events)
	var s Session
	for _, e := range sorted {
		s.GuestMAC = firstNonEmpty(s.GuestMAC, e.GuestMAC)
		s.RouterMAC = firstNonEmpty(s.RouterMAC, e.RouterMAC)
		s.Email = firstNonEmpty(s.Email, e.Email)
		at := e.At
		switch {
		case IsStart(e.Type) && s.Started == nil:
			s.Started = &at
		case IsEnd(e.Type):
			s.Ended, s.EndReason = &at, e.Type
		}
	}
	return s
}

// NextRetry applies Backoff, or River's policy without one.
func (w *Worker) NextRetry(job *river.Job[ProcessArgs]) time.Time {
	if w.Backoff == nil {
		return time.Time{}
	}
	return time.Now().Add(w.Backoff(job.Attempt))
}

// Work applies the event. On the last attempt a failure is recorded in
// webhook_dead_letters before River discards the job.
func (w *Worker) Work(ctx context.Context, job *river.Job[ProcessArgs]) (err error) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("portal event %d: panic: %v", job.Args.EventID, p)
		}
		outcome := attemptOutcome(job, err)
		if outcome == OutcomeDeadLetter {
			w.deadLetter(ctx, job, err)
		}
		w.Metrics.observe(time.Since(start), outcome)
	}()
	return w.apply(ctx, job.Args.EventID)
}

// attemptOutcome names what an attempt that returned err leads to.
func attemptOutcome(job *river.Job[ProcessArgs], err error) string {
	switch {
	case err == nil:
		return OutcomeOK
	case isCancel(err):
		return OutcomeCancel
	case job.Attempt >= job.MaxAttempts:
		return OutcomeDeadLetter
	}
	return OutcomeRetry
}

// apply rederives the event's session under a per-session lock.
func (w *Worker) apply(ctx context.Context, eventID int64) error {
	tx, err := w.DB.Begin(ctx)
	if err != nil {
		return fmt.Errorf("portal event %d: begin: %w", eventID, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	var session string
	const find = "SELECT session_id FROM portal_events WHERE id = $1"
	err = tx.QueryRow(ctx, find, eventID).Scan(&session)
	if errors.Is(err, pgx.ErrNoRows) {
		return river.JobCancel(fmt.Errorf("portal event %d: not in the inbox", eventID))
	}
	if err != nil {
		return fmt.Errorf("portal event %d: read: %w", eventID, err)
	}

	const lock = "SELECT pg_advisory_xact_lock(hashtextextended('portal_session:' || $1, 0))"
	if _, err := tx.Exec(ctx, lock, session); err != nil {
		return fmt.Errorf("portal event %d: lock session %q: %w", eventID, session, err)
	}
	if err := writeSession(ctx, tx, session); err != nil {
		return fmt.Errorf("portal event %d: session %q: %w", eventID, session, err)
	}
	const done = "UPDATE portal_events SET processed_at = now() WHERE id = $1"
	if _, err := tx.Exec(ctx, done, eventID); err != nil {
		return fmt.Errorf("portal event %d: mark processed: %w", eventID, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("portal event %d: commit: %w", eventID, err)
	}
	return nil
}

// writeSession derives session from all its inbox events and stores it.
func writeSession(ctx context.Context, tx pgx.Tx, session string) error {
	const q = `SELECT type, guest_mac, coalesce(router_mac, ''), coalesce(email, ''), event_at
		FROM portal_events WHERE session_id = $1`
	rows, _ := tx.Query(ctx, q, session)
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (SessionEvent, error) {
		var e SessionEvent
		err := row.Scan(&e.Type, &e.GuestMAC, &e.RouterMAC, &e.Email, &e.At)
		return e, err
	})
	if err != nil {
		return fmt.Errorf("read events: %w", err)
	}
	s := Derive(events)

	routerID, err := matchRouter(ctx, tx, s.RouterMAC)
	if err != nil {
		return err
	}

	const up = `INSERT INTO portal_sessions (session_id, guest_mac, router_mac, router_id, email,
			started_at, ended_at, end_reason, events, updated_at)
		VALUES ($1, $2, NULLIF($3, ''), $4, NULLIF($5, ''), $6, $7, NULLIF($8, ''), $9, now())
		ON CONFLICT (session_id) DO UPDATE SET guest_mac = excluded.guest_mac,
			router_mac = excluded.router_mac, router_id = excluded.router_id,
			email = excluded.email, started_at = excluded.started_at,
			ended_at = excluded.ended_at, end_reason = excluded.end_reason,
			events = excluded.events, updated_at = excluded.updated_at`
	_, err = tx.Exec(ctx, up, session, s.GuestMAC, s.RouterMAC, routerID, s.Email, s.Started,
		s.Ended, s.EndReason, len(events))
	if err != nil {
		return fmt.Errorf("upsert: %w", err)
	}
	return nil
}

// matchRouter returns the id of the router whose LAN or WLAN MAC is the
// canonical routerMAC, or nil.
func matchRouter(ctx context.Context, tx pgx.Tx, routerMAC string) (*int64, error) {
	if routerMAC == "" {
		return nil, nil
	}
	const q = `SELECT id FROM routers WHERE lan_mac = $1 OR wlan_mac = $1 ORDER BY id LIMIT 1`
	var id int64
	err := tx.QueryRow(ctx, q, routerMAC).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("match router %s: %w", routerMAC, err)
	}
	return &id, nil
}

// deadLetter records a job's final failure. It uses a fresh context: the
// job's may be the one that timed out.
func (w *Worker) deadLetter(ctx context.Context, job *river.Job[ProcessArgs], cause error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()

	const q = `INSERT INTO webhook_dead_letters (event_id, job_id, attempts, last_error, failed_at)
		VALUES ($1, $2, $3, $4, now())
		ON CONFLICT (event_id) DO UPDATE SET job_id = excluded.job_id,
			attempts = excluded.attempts, last_error = excluded.last_error,
			failed_at = excluded.failed_at, replayed_at = NULL, discarded_at = NULL`
	_, err := w.DB.Exec(ctx, q, job.Args.EventID, job.ID, job.Attempt, cause.Error())
	log := w.Log
	if log == nil {
		log = slog.Default()
	}
	if err != nil {
		log.Error("portal event not dead-lettered", "event_id", job.Args.EventID, "error", err,
			"cause", cause)
		return
	}
	log.Warn("portal event dead-lettered", "event_id", job.Args.EventID, "attempts", job.Attempt,
		"error", cause)
}

// isCancel reports whether err cancels the job (no dead letter: there is
// nothing to replay).
func isCancel(err error) bool {
	var jc *river.JobCancelError
	return errors.As(err, &jc)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// sortEvents returns events in time order; ties are broken by type and
// MAC so that the result never depends on arrival order.
func sortEvents(events []SessionEvent) []SessionEvent {
	sorted := slices.Clone(events)
	slices.SortFunc(sorted, func(a, b SessionEvent) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Type, b.Type),
			cmp.Compare(a.GuestMAC, b.GuestMAC), cmp.Compare(a.RouterMAC, b.RouterMAC),
			cmp.Compare(a.Email, b.Email))
	})
	return sorted
}
