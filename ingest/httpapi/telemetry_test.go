package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"github.com/routerlogger/routerlogger/ingest/httpapi"
	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/tokens"
	"github.com/routerlogger/routerlogger/ingest/writer"
)

// fakeWriter answers with err, or accepts every reading.
type fakeWriter struct {
	err     error
	batches []writer.Batch
}

func (f *fakeWriter) Write(_ context.Context, b writer.Batch) (writer.Result, error) {
	f.batches = append(f.batches, b)
	if f.err != nil {
		return writer.Result{}, f.err
	}
	return writer.Result{Accepted: len(b.Readings), Rejected: b.Rejects}, nil
}

type fakeTokens struct{ err error }

func (f fakeTokens) Check(_ context.Context, tok string) (tokens.Grant, error) {
	if f.err != nil {
		return tokens.Grant{}, f.err
	}
	if tok != "rl_good" {
		return tokens.Grant{}, tokens.ErrInvalid
	}
	return tokens.Grant{ID: 1}, nil
}

func serve(t *testing.T, h *httpapi.Handler, body, encoding string) *httptest.ResponseRecorder {
	t.Helper()
	r := chi.NewRouter()
	h.Routes(r)
	req := httptest.NewRequest(http.MethodPost, "/api/v1/telemetry", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer rl_good")
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	return rec
}

const good = `{"device_id":"A","timestamp":"2025-03-14T10:00:00Z","counters":{"total_tx_bytes":1}}`

func TestHandler_Unavailable(t *testing.T) {
	for _, tt := range []struct {
		name   string
		w      *fakeWriter
		tokens fakeTokens
		reason string
	}{
		{"queue full", &fakeWriter{err: writer.ErrQueueFull}, fakeTokens{}, "write queue full"},
		{"database down", &fakeWriter{err: writer.ErrUnavailable}, fakeTokens{}, "database unavailable"},
		{"token store down", &fakeWriter{}, fakeTokens{err: errors.New("conn refused")}, "database unavailable"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := &httpapi.Handler{Writer: tt.w, Tokens: tt.tokens, Parser: &reading.Parser{}}
			rec := serve(t, h, good, "")
			if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "5" {
				t.Fatalf("status %d Retry-After %q, want 503 and 5", rec.Code, rec.Header().Get("Retry-After"))
			}
			if !strings.Contains(rec.Body.String(), tt.reason) {
				t.Errorf("body %s lacks %q", rec.Body.String(), tt.reason)
			}
		})
	}
}

func TestHandler_Encodings(t *testing.T) {
	w := &fakeWriter{}
	h := &httpapi.Handler{Writer: w, Tokens: fakeTokens{}, Parser: &reading.Parser{}, MaxBody: 1024}

	if rec := serve(t, h, "not gzip", "gzip"); rec.Code != http.StatusBadRequest {
		t.Errorf("bad gzip: %d, want 400", rec.Code)
	}
	if rec := serve(t, h, good, "br"); rec.Code != http.StatusUnsupportedMediaType {
		t.Errorf("brotli: %d, want 415", rec.Code)
	}

	// A small gzip body that inflates past the limit is refused: 413.
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(`{"device_id":"A","pad":"` + strings.Repeat("x", 5000) + `"}`))
	zw.Close()
	rec := serve(t, h, buf.String(), "gzip")
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "1024 bytes") {
		t.Errorf("gzip bomb: %d %s, want 413 naming the limit", rec.Code, rec.Body.String())
	}

	// Every refused body was handed to the writer as a reject.
	rejects := 0
	for _, b := range w.batches {
		rejects += len(b.Rejects)
	}
	if rejects != 3 {
		t.Errorf("%d rejects recorded, want 3", rejects)
	}
}

func TestHandler_Response(t *testing.T) {
	h := &httpapi.Handler{Writer: &fakeWriter{}, Tokens: fakeTokens{}, Parser: &reading.Parser{}}
	rec := serve(t, h, "["+good+`,{"timestamp":"x"}]`, "")
	var resp httpapi.Response
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	if rec.Code != http.StatusAccepted || resp.Accepted != 1 || len(resp.Rejected) != 1 ||
		resp.Rejected[0].Index != 1 || resp.Rejected[0].Field != "device_id" {
		t.Fatalf("%d %+v", rec.Code, resp)
	}
}
