package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
)

// RadiusPath is where FreeRADIUS's rest module posts accounting records.
const RadiusPath = "/api/v1/webhooks/radius-accounting"

// RadiusRejectSource is the rejects.source of refused accounting records.
const RadiusRejectSource = "radius"

// postRadius serves RadiusPath with the portal webhook's secret, window,
// body limit and refusals. Unlike portal events, a record is applied to
// its session synchronously, in the inbox transaction: accounting records
// are small, their session is rederived from the inbox under a row lock,
// and FreeRADIUS retries (or keeps the record in its detail file) on a
// 503, so no job queue is needed.
func (h *Handler) postRadius(w http.ResponseWriter, r *http.Request) {
	now := h.now()
	body, ok := h.admit(w, r, radiusDoor, now)
	if !ok {
		return
	}

	rec, err := ParseAccounting(body)
	if err != nil {
		h.refuse(w, r, radiusDoor, parseRefusal(err), now, body)
		return
	}

	id, fresh, err := h.storeRadius(r.Context(), rec, body, now)
	if err != nil {
		h.unavailable(w, radiusDoor, err)
		return
	}
	if !fresh {
		h.reply(w, http.StatusOK, Response{Status: "duplicate"})
		return
	}
	h.reply(w, http.StatusAccepted, Response{Status: "accepted", EventID: id})
}

// storeRadius writes rec to the inbox and rederives its session in one
// transaction. fresh is false for a duplicate, which changes nothing.
func (h *Handler) storeRadius(ctx context.Context, rec AccountingRecord, body []byte,
	now time.Time) (int64, bool, error) {
	tx, err := h.DB.Begin(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	id, err := insertAccounting(ctx, tx, rec, body, now)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, tx.Commit(ctx)
	}
	if err != nil {
		return 0, false, err
	}

	if err := applyRadiusSession(ctx, tx, rec.SessionID, rec.GuestMAC, now); err != nil {
		return 0, false, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, false, fmt.Errorf("commit radius record %d: %w", id, err)
	}
	return id, true, nil
}

// insertAccounting adds rec to the inbox; pgx.ErrNoRows means it was there.
func insertAccounting(ctx context.Context, tx pgx.Tx, rec AccountingRecord, body []byte,
	now time.Time) (int64, error) {
	const q = `INSERT INTO radius_accounting (received_at, status_type, session_id, guest_mac,
			user_name, called_station_id, router_mac, ssid, event_at, session_time, input_bytes,
			output_bytes, attributes)
		VALUES ($1, $2, $3, $4, NULLIF($5, ''), NULLIF($6, ''), NULLIF($7, ''), NULLIF($8, ''),
			$9, $10, $11, $12, $13)
		ON CONFLICT ON CONSTRAINT radius_accounting_content_key DO NOTHING
		RETURNING id`
	var id int64
	err := tx.QueryRow(ctx, q, now, rec.StatusType, rec.SessionID, rec.GuestMAC, rec.UserName,
		rec.CalledStationID, rec.RouterMAC, rec.SSID, rec.At, rec.SessionTime, rec.InputBytes,
		rec.OutputBytes, string(body)).Scan(&id)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("insert radius record: %w", err)
	}
	return id, err
}

// lockRadiusSession creates the session row if needed and locks it, so
// that records of one session are applied one at a time.
const lockRadiusSession = `INSERT INTO radius_sessions (session_id, guest_mac, updated_at)
	VALUES ($1, $2, $3)
	ON CONFLICT (session_id, guest_mac) DO NOTHING`

// deriveRadiusSession rewrites the locked session from all its inbox
// records: earliest Start, latest Stop, and the counters of the latest
// record with counters that is not later than the latest Stop. So an
// Interim-Update after the Stop neither reopens the session nor changes
// its totals, whatever order the records arrive in.
const deriveRadiusSession = `WITH rec AS (
		SELECT * FROM radius_accounting WHERE session_id = $1 AND guest_mac = $2
	), stop AS (
		SELECT max(event_at) AS at FROM rec WHERE status_type = 'Stop'
	), cnt AS (
		SELECT rec.event_at, rec.input_bytes, rec.output_bytes, rec.session_time
		FROM rec, stop
		WHERE (rec.input_bytes IS NOT NULL OR rec.output_bytes IS NOT NULL
				OR rec.session_time IS NOT NULL)
			AND (stop.at IS NULL OR rec.event_at <= stop.at)
		ORDER BY rec.event_at DESC, (rec.status_type = 'Stop') DESC, rec.id DESC
		LIMIT 1
	), last AS (
		SELECT
			(SELECT user_name FROM rec WHERE user_name IS NOT NULL
				ORDER BY event_at DESC, id DESC LIMIT 1) AS user_name,
			(SELECT router_mac FROM rec WHERE router_mac IS NOT NULL
				ORDER BY event_at DESC, id DESC LIMIT 1) AS router_mac,
			(SELECT ssid FROM rec WHERE ssid IS NOT NULL
				ORDER BY event_at DESC, id DESC LIMIT 1) AS ssid,
			(SELECT min(event_at) FROM rec WHERE status_type = 'Start') AS started_at,
			(SELECT count(*) FROM rec) AS records
	)
	UPDATE radius_sessions s SET
		user_name = last.user_name,
		router_mac = last.router_mac,
		ssid = last.ssid,
		router_id = (SELECT id FROM routers
			WHERE lan_mac = last.router_mac OR wlan_mac = last.router_mac ORDER BY id LIMIT 1),
		started_at = last.started_at,
		stopped_at = (SELECT at FROM stop),
		counters_at = (SELECT event_at FROM cnt),
		input_bytes = (SELECT input_bytes FROM cnt),
		output_bytes = (SELECT output_bytes FROM cnt),
		session_time_s = (SELECT session_time FROM cnt),
		records = last.records,
		updated_at = $3
	FROM last
	WHERE s.session_id = $1 AND s.guest_mac = $2`

// applyRadiusSession locks the session of (sessionID, guestMAC) and
// rederives it from the inbox.
func applyRadiusSession(ctx context.Context, tx pgx.Tx, sessionID, guestMAC string,
	now time.Time) error {
	if _, err := tx.Exec(ctx, lockRadiusSession, sessionID, guestMAC, now); err != nil {
		return fmt.Errorf("create radius session %q: %w", sessionID, err)
	}
	const lock = `SELECT 1 FROM radius_sessions WHERE session_id = $1 AND guest_mac = $2
		FOR UPDATE`
	var one int
	if err := tx.QueryRow(ctx, lock, sessionID, guestMAC).Scan(&one); err != nil {
		return fmt.Errorf("lock radius session %q: %w", sessionID, err)
	}

	tag, err := tx.Exec(ctx, deriveRadiusSession, sessionID, guestMAC, now)
	if err != nil {
		return fmt.Errorf("derive radius session %q: %w", sessionID, err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("derive radius session %q: updated %d rows, want 1", sessionID,
			tag.RowsAffected())
	}
	return nil
}
