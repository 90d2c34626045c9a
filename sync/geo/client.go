package geo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/routerlogger/routerlogger/internal/breaker"
	"github.com/routerlogger/routerlogger/internal/clock"
)

// DefaultURL is the provider's process endpoint (Unwired Labs, Europe
// region; us1, us2 and ap1 serve the same API).
const DefaultURL = "https://eu1.unwiredlabs.com/v2/process.php"

// Defaults of [ClientOptions].
const (
	DefaultAttempts     = 3
	DefaultRetryWait    = time.Second
	DefaultMaxRetryWait = 10 * time.Second
)

// maxBody caps the provider's answer read into memory.
const maxBody = 1 << 20

// ErrKey is wrapped by the error of a request the provider refused for the
// key itself: an invalid or missing token, or no balance left. Nothing
// else will succeed until an operator acts, so the run fails.
var ErrKey = errors.New("provider refused the key")

// ErrEndpoint is wrapped by the error of a request whose URL does not
// answer as the process API (404, 405): a setting is wrong, so the run
// fails.
var ErrEndpoint = errors.New("not the provider's process endpoint")

// ErrUnavailable is wrapped by the error of a request that still failed
// after the retry budget: rate limited (429), a 5xx, a transport error or
// the breaker open. Use [RetryAfter] for the wait the provider asked for.
var ErrUnavailable = errors.New("provider unavailable")

// unavailableError carries the provider's Retry-After.
type unavailableError struct {
	err        error
	retryAfter time.Duration
}

func (e *unavailableError) Error() string { return e.err.Error() }

func (e *unavailableError) Unwrap() []error { return []error{ErrUnavailable, e.err} }

// RetryAfter returns how long the provider asked to wait, when err wraps
// [ErrUnavailable] and it said so (Retry-After) or the breaker is open.
func RetryAfter(err error) time.Duration {
	var ue *unavailableError
	if errors.As(err, &ue) {
		return ue.retryAfter
	}
	return 0
}

// Location is the provider's answer for one cell. Found is false for an
// unknown cell ("No matches found"), which is an answer, not an error.
type Location struct {
	Found     bool
	Lat, Lon  float64
	AccuracyM int
	// Message is the provider's message of a not-found answer.
	Message string
	// Balance is the requests left on the key, when the answer said.
	Balance *float64
}

// ClientOptions configure a [Client].
type ClientOptions struct {
	// URL is the process endpoint (DefaultURL when empty).
	URL string
	// Key is the API token.
	Key string
	// HTTP is the client with timeout and breaker (http.DefaultClient when
	// nil).
	HTTP *http.Client
	// Attempts bounds the tries of one lookup on 429, 5xx and transport
	// errors (DefaultAttempts).
	Attempts int
	// RetryWait is the first wait between tries, doubled each time
	// (DefaultRetryWait); MaxRetryWait caps a wait, Retry-After included
	// (DefaultMaxRetryWait): a longer Retry-After ends the tries at once.
	RetryWait, MaxRetryWait time.Duration
}

// Client asks the provider's process API for the position of one cell.
// It is safe for concurrent use.
type Client struct {
	opts ClientOptions
}

// NewClient returns a client. It does no I/O.
func NewClient(opts ClientOptions) *Client {
	if opts.URL == "" {
		opts.URL = DefaultURL
	}
	if opts.HTTP == nil {
		opts.HTTP = http.DefaultClient
	}
	if opts.Attempts <= 0 {
		opts.Attempts = DefaultAttempts
	}
	if opts.RetryWait <= 0 {
		opts.RetryWait = DefaultRetryWait
	}
	if opts.MaxRetryWait <= 0 {
		opts.MaxRetryWait = DefaultMaxRetryWait
	}
	return &Client{opts: opts}
}

// request is the process API's request body for one serving cell.
type request struct {
	Token   string        `json:"token"`
	Radio   Radio         `json:"radio"`
	MCC     int           `json:"mcc"`
	MNC     int           `json:"mnc"`
	Cells   []requestCell `json:"cells"`
	Address int           `json:"address"`
}

// requestCell is one cell; lac carries the TAC for lte and nr.
type requestCell struct {
	LAC int64 `json:"lac"`
	CID int64 `json:"cid"`
}

// response is the process API's answer.
type response struct {
	Status   string   `json:"status"`
	Message  string   `json:"message"`
	Balance  *float64 `json:"balance"`
	Lat      *float64 `json:"lat"`
	Lon      *float64 `json:"lon"`
	Accuracy *float64 `json:"accuracy"`
}

// Locate asks for c's position, retrying 429, 5xx and transport errors
// within the budget. Its errors wrap [ErrKey], [ErrEndpoint] or
// [ErrUnavailable], or are about this cell alone (a malformed answer, an invalid request).
func (cl *Client) Locate(ctx context.Context, c Cell) (Location, error) {
	body, err := cl.body(c)
	if err != nil {
		return Location{}, err
	}

	wait := cl.opts.RetryWait
	for attempt := 1; ; attempt++ {
		loc, err := cl.once(ctx, body)
		var ue *unavailableError
		if !errors.As(err, &ue) || attempt >= cl.opts.Attempts || errors.Is(err, breaker.ErrOpen) {
			return loc, err
		}

		d := max(wait, ue.retryAfter)
		if d > cl.opts.MaxRetryWait {
			return loc, err // the provider asks for longer than a run should wait
		}
		if err := clock.Sleep(ctx, d); err != nil {
			return Location{}, fmt.Errorf("geo: %w", err)
		}
		wait *= 2
	}
}

// body builds the request of c.
func (cl *Client) body(c Cell) ([]byte, error) {
	mcc, err1 := strconv.Atoi(c.MCC)
	mnc, err2 := strconv.Atoi(c.MNC)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("geo: cell %s: %w", c, err)
	}
	return json.Marshal(request{
		Token: cl.opts.Key, Radio: c.Radio, MCC: mcc, MNC: mnc,
		Cells: []requestCell{{LAC: c.Area, CID: c.ID}},
	})
}

// once sends one request and reads its answer.
func (cl *Client) once(ctx context.Context, body []byte) (Location, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cl.opts.URL, bytes.NewReader(body))
	if err != nil {
		return Location{}, fmt.Errorf("geo: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")

	resp, err := cl.opts.HTTP.Do(req)
	if err != nil {
		return Location{}, cl.transportError(ctx, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return Location{}, &unavailableError{err: fmt.Errorf("geo: read answer: %w", err)}
	}

	return cl.answer(resp, raw)
}

// transportError classifies a failed round trip: the caller's context
// ending is not the provider's fault.
func (cl *Client) transportError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("geo: %w", ctx.Err())
	}
	ue := &unavailableError{err: fmt.Errorf("geo: %w", err)}
	if errors.Is(err, breaker.ErrOpen) {
		ue.retryAfter = breaker.DefaultOpenFor
	}
	return ue
}

// answer turns an HTTP answer into a location or an error.
func (cl *Client) answer(resp *http.Response, raw []byte) (Location, error) {
	code := resp.StatusCode
	switch {
	case code == http.StatusTooManyRequests || code >= 500:
		return Location{}, &unavailableError{
			err:        fmt.Errorf("geo: provider answered %d: %s", code, snippet(raw)),
			retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		}
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return Location{}, fmt.Errorf("geo: %w: HTTP %d: %s", ErrKey, code, snippet(raw))
	case code == http.StatusNotFound || code == http.StatusMethodNotAllowed:
		return Location{}, fmt.Errorf("geo: %s %w: HTTP %d", cl.opts.URL, ErrEndpoint, code)
	}

	var r response
	if err := json.Unmarshal(raw, &r); err != nil {
		return Location{}, fmt.Errorf("geo: HTTP %d, answer is not JSON: %s", code, snippet(raw))
	}
	loc, err := r.location(code)
	loc.Balance = r.Balance
	return loc, err
}

// location reads a decoded answer.
func (r response) location(code int) (Location, error) {
	msg := strings.ToLower(r.Message)
	switch {
	case r.Status == "ok" && r.Lat != nil && r.Lon != nil:
		loc := Location{Found: true, Lat: *r.Lat, Lon: *r.Lon}
		if r.Accuracy != nil {
			loc.AccuracyM = int(*r.Accuracy + 0.5)
		}
		return loc, loc.check()
	case r.Status == "ok":
		return Location{}, errors.New("geo: answer ok without lat and lon")
	case r.Status != "error":
		return Location{}, fmt.Errorf("geo: HTTP %d, unknown status %q", code, r.Status)
	case strings.Contains(msg, "no matches"):
		return Location{Message: r.Message}, nil
	case strings.Contains(msg, "token") || strings.Contains(msg, "balance") ||
		strings.Contains(msg, "credit") || strings.Contains(msg, "unauthori"):
		return Location{}, fmt.Errorf("geo: %w: %s", ErrKey, r.Message)
	case strings.Contains(msg, "rate limit") || strings.Contains(msg, "too many"):
		return Location{}, &unavailableError{err: fmt.Errorf("geo: provider: %s", r.Message)}
	}
	return Location{}, fmt.Errorf("geo: provider error: %s", r.Message)
}

// check refuses a position off the globe.
func (l Location) check() error {
	if l.Lat < -90 || l.Lat > 90 || l.Lon < -180 || l.Lon > 180 {
		return fmt.Errorf("geo: position %g,%g off the globe", l.Lat, l.Lon)
	}
	return nil
}

// parseRetryAfter reads Retry-After as seconds or an HTTP date; 0 when
// absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// snippet is the start of a body for an error message.
func snippet(raw []byte) string {
	s := strings.TrimSpace(string(raw))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
