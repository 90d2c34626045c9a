package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/routerlogger/routerlogger/ingest/tokens"
)

// AdminPath is where the dead-letter queue's admin endpoints live.
const AdminPath = "/api/v1/admin/dlq"

// ScopeChecker checks a bearer token against a scope; *tokens.Store is one.
type ScopeChecker interface {
	CheckScope(ctx context.Context, token, scope string) (tokens.Grant, error)
}

// Admin serves the dead-letter queue to holders of an admin token:
//
//	GET  /api/v1/admin/dlq               waiting dead letters (?limit=N, default 100)
//	GET  /api/v1/admin/dlq/{id}          one of them
//	POST /api/v1/admin/dlq/{id}/replay   queue it again (?force=true for a discarded one)
//	POST /api/v1/admin/dlq/{id}/discard  take it out of the queue
//
// A missing or invalid token gets 401, a valid token of another scope 403.
type Admin struct {
	DLQ    *DLQ
	Tokens ScopeChecker
	// Log receives failures; nil means slog.Default.
	Log *slog.Logger
}

// DeadLetterJSON is a dead letter in the admin answers.
type DeadLetterJSON struct {
	EventID   int64     `json:"event_id"`
	Type      string    `json:"type"`
	SessionID string    `json:"session_id"`
	EventAt   time.Time `json:"event_at"`
	JobID     int64     `json:"job_id"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error"`
	FailedAt  time.Time `json:"failed_at"`
}

// Routes mounts the admin endpoints on r.
func (a *Admin) Routes(r chi.Router) {
	r.Route(AdminPath, func(r chi.Router) {
		r.Use(a.authenticate)
		r.Get("/", a.list)
		r.Get("/{id}", a.get)
		r.Post("/{id}/replay", a.replay)
		r.Post("/{id}/discard", a.discard)
	})
}

// authenticate lets only admin tokens through.
func (a *Admin) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !found || strings.TrimSpace(tok) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="routerlogger"`)
			adminReply(w, http.StatusUnauthorized, map[string]string{"error": "missing bearer token"})
			return
		}

		_, err := a.Tokens.CheckScope(r.Context(), strings.TrimSpace(tok), tokens.ScopeAdmin)
		switch {
		case errors.Is(err, tokens.ErrInvalid):
			w.Header().Set("WWW-Authenticate", `Bearer realm="routerlogger", error="invalid_token"`)
			adminReply(w, http.StatusUnauthorized, map[string]string{"error": err.Error()})
		case errors.Is(err, tokens.ErrScope):
			adminReply(w, http.StatusForbidden, map[string]string{"error": "an admin token is required"})
		case err != nil:
			a.fail(w, err)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

func (a *Admin) list(w http.ResponseWriter, r *http.Request) {
	limit := 100
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100_000 {
			adminReply(w, http.StatusBadRequest, map[string]string{"error": "limit must be 1..100000"})
			return
		}
		limit = n
	}

	list, err := a.DLQ.List(r.Context(), limit)
	if err != nil {
		a.fail(w, err)
		return
	}
	out := make([]DeadLetterJSON, 0, len(list))
	for _, d := range list {
		out = append(out, DeadLetterJSON(d))
	}
	adminReply(w, http.StatusOK, map[string]any{"dead_letters": out})
}

func (a *Admin) get(w http.ResponseWriter, r *http.Request) {
	id, ok := eventID(w, r)
	if !ok {
		return
	}
	d, err := a.DLQ.Get(r.Context(), id)
	if err != nil {
		a.answerError(w, err)
		return
	}
	adminReply(w, http.StatusOK, DeadLetterJSON(d))
}

func (a *Admin) replay(w http.ResponseWriter, r *http.Request) {
	id, ok := eventID(w, r)
	if !ok {
		return
	}
	force := r.URL.Query().Get("force") == "true"
	queued, err := a.DLQ.Replay(r.Context(), id, force)
	if err != nil {
		a.answerError(w, err)
		return
	}
	status := map[bool]string{true: "queued", false: "already replayed"}[queued]
	adminReply(w, http.StatusOK, map[string]any{"event_id": id, "status": status})
}

func (a *Admin) discard(w http.ResponseWriter, r *http.Request) {
	id, ok := eventID(w, r)
	if !ok {
		return
	}
	changed, err := a.DLQ.Discard(r.Context(), id)
	if err != nil {
		a.answerError(w, err)
		return
	}
	status := map[bool]string{true: "discarded", false: "already discarded"}[changed]
	adminReply(w, http.StatusOK, map[string]any{"event_id": id, "status": status})
}

// eventID parses the {id} of the path, answering 400 itself.
func eventID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		adminReply(w, http.StatusBadRequest, map[string]string{"error": "event id must be a whole number"})
		return 0, false
	}
	return id, true
}

// answerError maps DLQ errors: 404 not waiting, 409 discarded, else 503.
func (a *Admin) answerError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrNotDeadLettered):
		adminReply(w, http.StatusNotFound, map[string]string{"error": err.Error()})
	case errors.Is(err, ErrDiscarded):
		adminReply(w, http.StatusConflict, map[string]string{"error": err.Error()})
	default:
		a.fail(w, err)
	}
}

func (a *Admin) fail(w http.ResponseWriter, err error) {
	log := a.Log
	if log == nil {
		log = slog.Default()
	}
	log.Warn("dlq admin request failed", "error", err)
	adminReply(w, http.StatusServiceUnavailable, map[string]string{"error": "database unavailable"})
}

func adminReply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
