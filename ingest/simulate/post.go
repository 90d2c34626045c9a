package simulate

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Backoff without a Retry-After: doubling from firstBackoff.
const firstBackoff = 500 * time.Millisecond

// maxAnswer caps how much of an answer is read.
const maxAnswer = 1 << 20

// answer is the body of a telemetry answer.
type answer struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
	Rejected   []struct {
		Index  int    `json:"index"`
		Field  string `json:"field"`
		Reason string `json:"reason"`
	} `json:"rejected"`
	Error string `json:"error"`
}

// retryError is a failure worth retrying, with the server's Retry-After
// when it sent one.
type retryError struct {
	err      error
	after    time.Duration
	hasAfter bool
}

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

// endpoint returns the telemetry URL of a server base URL.
func endpoint(base string) string {
	return strings.TrimRight(base, "/") + "/api/v1/telemetry"
}

// post sends one batch until the server answers it, retrying what is
// worth retrying.
func (s *sender) post(ctx context.Context, b batch) error {
	body, ctype, err := s.encode(b)
	if err != nil {
		return fmt.Errorf("post %d: encode: %w", b.index, err)
	}

	for attempt := 0; ; attempt++ {
		if err := s.pace.wait(ctx); err != nil {
			return err
		}
		a, err := s.send(ctx, body, ctype)
		if err == nil {
			s.record(b, a)
			return nil
		}

		var re *retryError
		switch {
		case !errors.As(err, &re):
			return fmt.Errorf("post %d: %w", b.index, err)
		case attempt >= s.cfg.MaxRetries:
			return fmt.Errorf("post %d: %w (%d retries): %w", b.index, ErrGaveUp, attempt, err)
		}
		wait := s.backoff(re, attempt)
		s.cfg.Log.Warn("post not taken, retrying", "post", b.index, "error", err,
			"wait", wait, "attempt", attempt+1)
		if err := s.cfg.Sleep(ctx, wait); err != nil {
			return err
		}
		s.count(func(r *Report) { r.Retries++ })
	}
}

// encode returns the body and content type of a batch: one JSON object
// when Batch is 1, else NDJSON, gzipped when asked.
func (s *sender) encode(b batch) ([]byte, string, error) {
	var buf bytes.Buffer
	var w io.Writer = &buf
	var zw *gzip.Writer
	if s.cfg.Gzip {
		zw = gzip.NewWriter(&buf)
		w = zw
	}

	enc := json.NewEncoder(w) // one value per line: NDJSON
	for _, d := range b.ds {
		if err := enc.Encode(d.Reading); err != nil {
			r := d.Reading
			return nil, "", fmt.Errorf("reading %s at %s: %w", r.DeviceID, r.Time, err)
		}
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return nil, "", fmt.Errorf("gzip: %w", err)
		}
	}

	if s.cfg.Batch > 1 {
		return buf.Bytes(), "application/x-ndjson", nil
	}
	return buf.Bytes(), "application/json", nil
}

// send makes one request and judges the answer.
func (s *sender) send(ctx context.Context, body []byte, ctype string) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, bytes.NewReader(body))
	if err != nil {
		return answer{}, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+s.cfg.Token)
	req.Header.Set("Content-Type", ctype)
	if s.cfg.Gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}

	s.count(func(r *Report) { r.Requests++ })
	resp, err := s.client.Do(req)
	if err != nil {
		return answer{}, s.transportError(ctx, err)
	}
	defer resp.Body.Close()

	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		// The batch may have been committed; the retry is then a duplicate,
		// which the server counts as such.
		return answer{}, s.transportError(ctx, fmt.Errorf("read answer: %w", err))
	}
	return s.judge(resp, raw)
}

// transportError returns ctx's error when it ended, else err as worth
// retrying.
func (s *sender) transportError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return &retryError{err: err}
}

// judge turns an answer into its counts or an error.
func (s *sender) judge(resp *http.Response, raw []byte) (answer, error) {
	var a answer
	jsonErr := json.Unmarshal(raw, &a)

	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		if jsonErr != nil {
			return a, fmt.Errorf("server answered %s with a body that is not "+
				"a telemetry answer: %w", resp.Status, jsonErr)
		}
		return a, nil
	case code == http.StatusBadRequest && jsonErr == nil && len(a.Rejected) > 0:
		return a, nil // every reading refused: counted, not retried
	case code == http.StatusTooManyRequests || code == http.StatusBadGateway ||
		code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout:
		after, ok := retryAfter(resp.Header.Get("Retry-After"), s.cfg.Now())
		return a, &retryError{err: statusError(resp, a, raw), after: after, hasAfter: ok}
	}
	return a, statusError(resp, a, raw)
}

// statusError words an unexpected answer with the server's message.
func statusError(resp *http.Response, a answer, raw []byte) error {
	msg := a.Error
	if msg == "" {
		msg = strings.TrimSpace(string(raw[:min(len(raw), 200)]))
	}
	return fmt.Errorf("server answered %s: %s", resp.Status, msg)
}

// retryAfter parses a Retry-After header: delay seconds or an HTTP date.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs >= 0 {
		return time.Duration(min(secs, 86400)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// backoff returns the wait before retry attempt+1: the server's
// Retry-After, else a doubling backoff, capped at MaxRetryWait.
func (s *sender) backoff(re *retryError, attempt int) time.Duration {
	if re.hasAfter {
		return min(re.after, s.cfg.MaxRetryWait)
	}
	d := firstBackoff
	for range min(attempt, 30) {
		d *= 2
	}
	return min(d, s.cfg.MaxRetryWait)
}

// record counts an answered batch and logs what the server refused.
func (s *sender) record(b batch, a answer) {
	s.count(func(r *Report) {
		r.Posted += len(b.ds)
		r.Accepted += a.Accepted
		r.Duplicates += a.Duplicates
		r.Rejected += len(a.Rejected)
	})

	log := s.cfg.Log.With("post", b.index, "readings", len(b.ds))
	for _, rej := range a.Rejected {
		log.Warn("reading rejected", "index", rej.Index, "field", rej.Field, "reason", rej.Reason)
	}
	if n := a.Accepted + a.Duplicates + len(a.Rejected); n != len(b.ds) {
		log.Warn("answer does not account for every reading", "counted", n)
	}
	log.Debug("posted", "accepted", a.Accepted, "duplicates", a.Duplicates)
}
