// Package httpapi is the HTTP front door for router telemetry:
// POST /api/v1/telemetry with one JSON reading, a JSON array or NDJSON,
// optionally gzip-encoded, authenticated by a bearer token. It answers 202
// only after the writer committed the batch, so a router that sees
// anything else keeps its data and retries.
package httpapi

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/tokens"
	"github.com/routerlogger/routerlogger/ingest/writer"
)

// Writer is what the handler needs of [writer.Writer].
type Writer interface {
	Write(ctx context.Context, b writer.Batch) (writer.Result, error)
}

// Tokens is what the handler needs of [tokens.Store].
type Tokens interface {
	Check(ctx context.Context, token string) (tokens.Grant, error)
}

// Handler serves the telemetry API.
type Handler struct {
	Writer Writer
	Tokens Tokens
	Parser *reading.Parser
	// MaxBody caps the request body, after decompression (default 8 MiB).
	MaxBody int64
	// RetryAfter is sent with 503 answers (default 5 s).
	RetryAfter time.Duration
	// Now stamps the received-at time; nil means time.Now. Give the parser
	// the same clock so that its future bound agrees.
	Now func() time.Time
	Log *slog.Logger
}

// Routes mounts the API on r.
func (h *Handler) Routes(r chi.Router) {
	r.Post("/api/v1/telemetry", h.postTelemetry)
	r.Get("/api/v1/schema/reading.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/schema+json")
		_, _ = w.Write(reading.SchemaJSON)
	})
}

// Response is the body of every telemetry answer.
type Response struct {
	Accepted   int           `json:"accepted"`
	Duplicates int           `json:"duplicates"`
	Rejected   []RejectedDTO `json:"rejected"`
	Error      string        `json:"error,omitempty"`
}

// RejectedDTO names one refused reading of a request.
type RejectedDTO struct {
	Index  int    `json:"index"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

func (h *Handler) postTelemetry(w http.ResponseWriter, r *http.Request) {
	grant, ok := h.authenticate(w, r)
	if !ok {
		return
	}
	received := time.Now()
	if h.Now != nil {
		received = h.Now()
	}

	body, status, err := h.readBody(r)
	if err != nil {
		h.refuse(w, r, status, err, received, body)
		return
	}

	items, err := h.Parser.ParseBody(r.Header.Get("Content-Type"), body)
	if errors.Is(err, reading.ErrUnsupportedMediaType) {
		h.refuse(w, r, http.StatusUnsupportedMediaType, err, received, body)
		return
	}

	b := writer.Batch{Source: reading.SourceHTTP, Received: received, Register: grant.Fleet(),
		AllowRouter: grant.Router}
	var index []int // request index of each reading in b.Readings
	resp := Response{Rejected: []RejectedDTO{}}
	if err != nil {
		// Not JSON at all: one reject for the whole body.
		rej := writer.Reject{Index: 0, Reason: err.Error(), Payload: body}
		b.Rejects = append(b.Rejects, rej)
		resp.Rejected = append(resp.Rejected, RejectedDTO{Index: 0, Reason: rej.Reason})
	}
	for _, it := range items {
		if it.Err != nil {
			b.Rejects = append(b.Rejects, writer.Reject{Index: it.Index, Serial: it.Reading.DeviceID,
				Field: it.Err.Field, Reason: it.Err.Reason, Payload: it.Raw})
			resp.Rejected = append(resp.Rejected, RejectedDTO{it.Index, it.Err.Field, it.Err.Reason})
			continue
		}
		if grant.Router != "" && it.Reading.DeviceID != grant.Router {
			reason := "this token may only post for router " + grant.Router
			b.Rejects = append(b.Rejects, writer.Reject{Index: it.Index, Serial: it.Reading.DeviceID,
				Field: "device_id", Reason: reason, Payload: it.Raw})
			resp.Rejected = append(resp.Rejected, RejectedDTO{it.Index, "device_id", reason})
			continue
		}
		b.Readings = append(b.Readings, it.Reading)
		index = append(index, it.Index)
	}

	res, err := h.Writer.Write(r.Context(), b)
	if err != nil {
		h.unavailable(w, err)
		return
	}
	for _, rej := range res.Rejected[len(b.Rejects):] {
		// Rejects the writer added carry the position in b.Readings.
		i := rej.Index
		if i >= 0 && i < len(index) {
			i = index[i]
		}
		resp.Rejected = append(resp.Rejected, RejectedDTO{i, rej.Field, rej.Reason})
	}
	resp.Accepted, resp.Duplicates = res.Accepted, res.Duplicates

	status = http.StatusAccepted
	if resp.Accepted+resp.Duplicates == 0 {
		status = http.StatusBadRequest
	}
	h.reply(w, status, resp)
}

// refuse records a body refused as a whole and answers status, or 503
// when even the reject cannot be stored (the sender retries, and the
// reject is recorded then).
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, status int, cause error,
	received time.Time, body []byte) {
	b := writer.Batch{Source: reading.SourceHTTP, Received: received,
		Rejects: []writer.Reject{{Reason: cause.Error(), Payload: body}}}
	if _, err := h.Writer.Write(r.Context(), b); err != nil {
		h.unavailable(w, err)
		return
	}
	h.reply(w, status, Response{Error: cause.Error(), Rejected: []RejectedDTO{}})
}

// authenticate checks the bearer token and answers 401 or 503 itself.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) (tokens.Grant, bool) {
	auth := r.Header.Get("Authorization")
	tok, found := strings.CutPrefix(auth, "Bearer ")
	if !found || tok == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="routerlogger"`)
		h.reply(w, http.StatusUnauthorized, Response{Error: "missing bearer token", Rejected: []RejectedDTO{}})
		return tokens.Grant{}, false
	}
	g, err := h.Tokens.Check(r.Context(), strings.TrimSpace(tok))
	if errors.Is(err, tokens.ErrInvalid) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="routerlogger", error="invalid_token"`)
		h.reply(w, http.StatusUnauthorized, Response{Error: err.Error(), Rejected: []RejectedDTO{}})
		return tokens.Grant{}, false
	}
	if err != nil {
		h.unavailable(w, err)
		return tokens.Grant{}, false
	}
	return g, true
}

// errTooLarge is returned by readBody for a body over the limit.
var errTooLarge = errors.New("request body too large")

// readBody reads the body, decompressing gzip, within MaxBody.
func (h *Handler) readBody(r *http.Request) ([]byte, int, error) {
	limit := h.MaxBody
	if limit <= 0 {
		limit = 8 << 20
	}
	var src io.Reader = http.MaxBytesReader(nil, r.Body, limit)

	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, http.StatusBadRequest, errors.New("body is not valid gzip: " + err.Error())
		}
		defer zr.Close()
		src = zr
	default:
		return nil, http.StatusUnsupportedMediaType, errors.New("unsupported content encoding " + strconv.Quote(enc))
	}

	// The limit applies to the decompressed body too, against gzip bombs.
	body, err := io.ReadAll(io.LimitReader(src, limit+1))
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr) || int64(len(body)) > limit:
		return nil, http.StatusRequestEntityTooLarge,
			fmt.Errorf("%w: the limit is %d bytes after decompression (ROUTERLOGGER_HTTP_MAX_BODY); "+
				"send smaller batches", errTooLarge, limit)
	case err != nil:
		return nil, http.StatusBadRequest, errors.New("read body: " + err.Error())
	}
	return body, 0, nil
}

// unavailable answers 503 with Retry-After: the sender keeps its data.
func (h *Handler) unavailable(w http.ResponseWriter, err error) {
	retry := h.RetryAfter
	if retry <= 0 {
		retry = 5 * time.Second
	}
	if h.Log != nil {
		h.Log.Warn("telemetry not stored", "error", err)
	}
	w.Header().Set("Retry-After", strconv.Itoa(int(retry.Round(time.Second)/time.Second)))
	msg := "database unavailable, retry later"
	if errors.Is(err, writer.ErrQueueFull) {
		msg = "write queue full, retry later"
	}
	h.reply(w, http.StatusServiceUnavailable, Response{Error: msg, Rejected: []RejectedDTO{}})
}

func (h *Handler) reply(w http.ResponseWriter, status int, resp Response) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(resp)
}
