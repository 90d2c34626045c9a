// Package webhook receives the guest Wi-Fi captive portal's signed
// webhooks: POST /api/v1/webhooks/captive-portal.
//
// A delivery is checked in this order: size limit, HMAC-SHA256 signature
// and its 5-minute window (or, for a portal that cannot sign and only when
// [Handler.Bearer] is on, a portal-scope bearer token), JSON, the
// published JSON Schema, then the MACs and the timestamp. A refused delivery gets a 4xx with its reason and a
// row in rejects (source 'portal'). An accepted one is stored in the inbox
// table portal_events and its processing job enqueued in the same
// transaction; only after the commit does the portal get 202. A repeated
// delivery (same type, session, guest MAC and instant) gets 200 and
// changes nothing.
//
// The job ([Worker]) applies events of one session one at a time and
// derives the session from all its events, so arrival order does not
// matter. Events that fail every attempt land in webhook_dead_letters
// ([DLQ]).
package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/routerlogger/routerlogger/ingest/tokens"
	"github.com/routerlogger/routerlogger/internal/clock"
)

// Path is where the portal posts its events.
const Path = "/api/v1/webhooks/captive-portal"

// SchemaPath serves [SchemaJSON].
const SchemaPath = "/api/v1/schema/captive-portal-event.json"

// RejectSource is the rejects.source of refused deliveries.
const RejectSource = "portal"

// DefaultMaxBody is the body limit when Handler.MaxBody is zero.
const DefaultMaxBody = 64 << 10

// maxRejectPayload caps the payload stored with a reject, so that
// unauthenticated senders cannot fill the table.
const maxRejectPayload = 16 << 10

// DB is what the package needs of a pgxpool.Pool.
type DB interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Enqueuer inserts a job in a transaction; *river.Client[pgx.Tx] is one.
type Enqueuer interface {
	InsertTx(ctx context.Context, tx pgx.Tx, args river.JobArgs,
		opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// Handler serves the captive-portal webhook.
type Handler struct {
	// DB stores inbox events and rejects.
	DB DB
	// Jobs enqueues the processing job in the inbox transaction.
	Jobs Enqueuer
	// Secret is the shared HMAC secret (ROUTERLOGGER_PORTAL_SECRET). With
	// none and Bearer off, every delivery gets 503.
	Secret []byte
	// Bearer accepts an "Authorization: Bearer" portal token instead of
	// the signature (ROUTERLOGGER_PORTAL_BEARER). Off, a bearer-only
	// delivery is refused with 401 and recorded in rejects.
	Bearer bool
	// Tokens checks portal bearer tokens; needed only when Bearer is on.
	Tokens ScopeChecker
	// Window is how old or new a signature may be (default 5 minutes).
	Window time.Duration
	// MaxBody caps the body in bytes (default [DefaultMaxBody]).
	MaxBody int64
	// MaxAttempts is how often a job is tried before it is dead-lettered;
	// zero means the job runtime's default.
	MaxAttempts int
	// Clock stamps the receive time and checks the window; nil is the
	// system clock.
	Clock clock.Clock
	// Log receives warnings; nil means slog.Default.
	Log *slog.Logger
}

// Response is the body of every answer.
type Response struct {
	Status  string `json:"status,omitempty"` // accepted or duplicate
	EventID int64  `json:"event_id,omitempty"`
	Field   string `json:"field,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Routes mounts the webhook, its schema and the RADIUS accounting
// endpoint on r.
func (h *Handler) Routes(r chi.Router) {
	r.Post(Path, h.post)
	r.Post(RadiusPath, h.postRadius)
	r.Get(SchemaPath, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/schema+json")
		_, _ = w.Write(SchemaJSON)
	})
}

// refusal is a 4xx answer with its reason.
type refusal struct {
	status int
	field  string
	reason string
}

// door names one webhook endpoint in its rejects and logs.
type door struct {
	source string // rejects.source
	what   string // what it receives, for log lines
}

var (
	portalDoor = door{RejectSource, "portal event"}
	radiusDoor = door{RadiusRejectSource, "radius accounting record"}
)

// admit runs the steps every webhook request passes: a configured secret
// or bearer tokens, the body limit, then the signature and its window or
// the bearer token. It answers the request itself and returns ok false
// when one fails.
func (h *Handler) admit(w http.ResponseWriter, r *http.Request, d door,
	now time.Time) ([]byte, bool) {
	if len(h.Secret) == 0 && !h.Bearer {
		h.logger().Error(d.what + " webhook has no secret; set ROUTERLOGGER_PORTAL_SECRET")
		h.reply(w, http.StatusServiceUnavailable, Response{Error: "webhook secret not configured"})
		return nil, false
	}

	body, ref := h.readBody(r)
	if ref == nil {
		var err error
		if ref, err = h.authenticate(r, body, now); err != nil {
			h.unavailable(w, d, err)
			return nil, false
		}
	}
	if ref != nil {
		h.refuse(w, r, d, *ref, now, body)
		return nil, false
	}
	return body, true
}

// authenticate checks the signature, or the bearer token of a delivery
// that has one and no signature. It returns an error only when the token
// could not be checked.
func (h *Handler) authenticate(r *http.Request, body []byte, now time.Time) (*refusal, error) {
	auth := r.Header.Get("Authorization")
	tok, bearer := strings.CutPrefix(auth, "Bearer ")
	switch {
	case bearer && r.Header.Get(SignatureHeader) == "":
		return h.checkBearer(r.Context(), strings.TrimSpace(tok))
	case len(h.Secret) == 0:
		return &refusal{http.StatusUnauthorized, "",
			"missing portal bearer token: this server takes bearer tokens, not signatures"}, nil
	}
	return h.check(r, body, now), nil
}

// checkBearer admits a portal-scope token when bearer tokens are on.
func (h *Handler) checkBearer(ctx context.Context, tok string) (*refusal, error) {
	if !h.Bearer {
		return &refusal{http.StatusUnauthorized, "", "bearer tokens are not accepted for webhooks " +
			"(ROUTERLOGGER_PORTAL_BEARER is off); sign the delivery"}, nil
	}
	_, err := h.Tokens.CheckScope(ctx, tok, tokens.ScopePortal)
	switch {
	case errors.Is(err, tokens.ErrInvalid):
		return &refusal{http.StatusUnauthorized, "", "invalid or revoked portal token"}, nil
	case errors.Is(err, tokens.ErrScope):
		return &refusal{http.StatusForbidden, "", "token is not a portal token"}, nil
	case err != nil:
		return nil, fmt.Errorf("check portal token: %w", err)
	}
	return nil, nil
}

func (h *Handler) post(w http.ResponseWriter, r *http.Request) {
	now := h.now()
	body, ok := h.admit(w, r, portalDoor, now)
	if !ok {
		return
	}

	ev, err := Parse(body)
	if err != nil {
		h.refuse(w, r, portalDoor, parseRefusal(err), now, body)
		return
	}

	id, fresh, err := h.store(r.Context(), ev, now)
	if err != nil {
		h.unavailable(w, portalDoor, err)
		return
	}
	if !fresh {
		h.reply(w, http.StatusOK, Response{Status: "duplicate"})
		return
	}
	h.reply(w, http.StatusAccepted, Response{Status: "accepted", EventID: id})
}

// check verifies the signature of body.
func (h *Handler) check(r *http.Request, body []byte, now time.Time) *refusal {
	window := h.Window
	if window <= 0 {
		window = DefaultWindow
	}
	if err := Verify(r.Header.Get(SignatureHeader), body, h.Secret, now, window); err != nil {
		return &refusal{http.StatusUnauthorized, "", err.Error()}
	}
	return nil
}

// parseRefusal maps a Parse error to its answer.
func parseRefusal(err error) refusal {
	var fe *FieldError
	if !errors.As(err, &fe) {
		return refusal{http.StatusBadRequest, "", err.Error()}
	}
	if fe.Malformed {
		return refusal{http.StatusBadRequest, fe.Field, fe.Reason}
	}
	return refusal{http.StatusUnprocessableEntity, fe.Field, fe.Reason}
}

// readBody reads the body within MaxBody.
func (h *Handler) readBody(r *http.Request) ([]byte, *refusal) {
	limit := h.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return body, &refusal{http.StatusBadRequest, "", "read body: " + err.Error()}
	}
	if int64(len(body)) > limit {
		return body[:limit], &refusal{http.StatusRequestEntityTooLarge, "",
			fmt.Sprintf("body over the %d-byte limit", limit)}
	}
	return body, nil
}

// store writes the event to the inbox and enqueues its job in one
// transaction. fresh is false for a duplicate, which changes nothing.
func (h *Handler) store(ctx context.Context, ev Event, now time.Time) (int64, bool, error) {
	tx, err := h.DB.Begin(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))

	id, err := insertEvent(ctx, tx, ev, now)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, tx.Commit(ctx)
	}
	if err != nil {
		return 0, false, err
	}

	args := ProcessArgs{EventID: id, SessionID: ev.SessionID}
	opts := &river.InsertOpts{MaxAttempts: h.MaxAttempts}
	if _, err := h.Jobs.InsertTx(ctx, tx, args, opts); err != nil {
		return 0, false, fmt.Errorf("enqueue event %d: %w", id, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, false, fmt.Errorf("commit event %d: %w", id, err)
	}
	return id, true, nil
}

// insertEvent adds ev to the inbox; pgx.ErrNoRows means it was there.
func insertEvent(ctx context.Context, tx pgx.Tx, ev Event, now time.Time) (int64, error) {
	const q = `INSERT INTO portal_events (received_at, type, session_id, guest_mac, router_mac,
			event_at, username, email, name, session_duration, extra)
		VALUES ($1, $2, $3, $4, NULLIF($5, ''), $6, NULLIF($7, ''), NULLIF($8, ''), NULLIF($9, ''),
			$10, $11)
		ON CONFLICT ON CONSTRAINT portal_events_content_key DO NOTHING
		RETURNING id`
	var id int64
	err := tx.QueryRow(ctx, q, now, ev.Type, ev.SessionID, ev.GuestMAC, ev.RouterMAC, ev.At,
		ev.Username, ev.Email, ev.Name, ev.Duration, string(ev.Extra)).Scan(&id)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("insert portal event: %w", err)
	}
	return id, err
}

// refuse records a refused delivery in rejects and answers ref, or 503
// when even the reject cannot be stored.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, d door, ref refusal, now time.Time,
	body []byte) {
	const q = `INSERT INTO rejects (received_at, source, router_serial, item_index, field, reason,
			payload)
		VALUES ($1, $2, NULL, 0, NULLIF($3, ''), $4, $5)`
	if _, err := h.DB.Exec(r.Context(), q, now, d.source, ref.field, ref.reason,
		payloadText(body)); err != nil {
		h.unavailable(w, d, fmt.Errorf("record reject: %w", err))
		return
	}
	h.reply(w, ref.status, Response{Field: ref.field, Error: ref.reason})
}

// payloadText makes body storable as text: valid UTF-8, no NUL, capped.
func payloadText(body []byte) string {
	if len(body) > maxRejectPayload {
		body = body[:maxRejectPayload]
	}
	s := strings.ToValidUTF8(string(body), "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "")
}

// unavailable answers 503: the sender keeps what it sent and retries.
func (h *Handler) unavailable(w http.ResponseWriter, d door, err error) {
	h.logger().Warn(d.what+" not stored", "error", err)
	w.Header().Set("Retry-After", "5")
	h.reply(w, http.StatusServiceUnavailable, Response{Error: "database unavailable, retry later"})
}

func (h *Handler) reply(w http.ResponseWriter, status int, resp Response) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(resp)
}

func (h *Handler) now() time.Time {
	if h.Clock == nil {
		return time.Now()
	}
	return h.Clock.Now()
}

func (h *Handler) logger() *slog.Logger {
	if h.Log == nil {
		return slog.Default()
	}
	return h.Log
}
