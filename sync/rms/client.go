// Package rms syncs the fleet's inventory and data usage from Teltonika
// RMS, the vendor's cloud management API, into RouterLogger.
//
// [Client] speaks the API: bearer tokens from an oauth2.TokenSource (a
// static personal access token today, sync/oauth later), the errors
// envelope as [*APIError] with behaviour checks ([IsRateLimited],
// [IsAuth], [IsForbidden], [IsTransient]), transient failures retried
// with back-off within a per-run budget, and every request counted
// against the monthly quota ([Meter]). [Job] is the sync job (package
// sync/syncrun): it pages through GET /devices, upserts each device into
// routers (RMS owns inventory; telemetry owns live state), fetches recent
// daily data usage for reconciliation, and checkpoints the page cursor.
package rms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
	"golang.org/x/oauth2"
)

// Defaults of [ClientOptions].
const (
	DefaultBaseURL   = "https://api.rms.teltonika-networks.com"
	DefaultAttempts  = 4
	DefaultRetryTime = 2 * time.Minute
	DefaultRetryWait = 500 * time.Millisecond
)

// maxBody bounds an answer read into memory.
const maxBody = 32 << 20

// Meter counts requests against a quota. Take is called before every
// request, retries included; it returns an error wrapping [ErrQuota] when
// the request must not be made.
type Meter interface {
	Take(ctx context.Context) error
}

// OAuthTokens hands out OAuth access tokens per request and renews one
// that RMS refused before it expired; sync/oauth's Flow is one.
type OAuthTokens interface {
	Token(ctx context.Context) (*oauth2.Token, error)
	Renew(ctx context.Context, rejected string) (*oauth2.Token, error)
}

// ClientOptions configure a [Client]. Set Tokens or OAuth.
type ClientOptions struct {
	// BaseURL is the API base before the resource path (DefaultBaseURL).
	BaseURL string
	// Tokens gives the access token sent as "Authorization: Bearer" (a
	// personal access token).
	Tokens oauth2.TokenSource
	// OAuth, when set, is used instead of Tokens: its token is taken with
	// the request's context, and a 401 for an unexpired token renews it
	// once and resends the request.
	OAuth OAuthTokens
	// HTTP sends the requests (http.DefaultClient when nil); give it a
	// timeout and a breaker.
	HTTP *http.Client
	// Attempts is how many times one request is tried when it fails
	// transiently (DefaultAttempts); 1 means no retry.
	Attempts int
	// RetryTime is the time one run may spend on retries, counting the
	// failed attempts and the waits (DefaultRetryTime).
	RetryTime time.Duration
	// RetryWait is the first wait before a retry (DefaultRetryWait); it
	// grows exponentially with jitter.
	RetryWait time.Duration
	// Meter, when set, counts every request.
	Meter Meter
	// Logger receives retries at debug level (default slog.Default()).
	Logger *slog.Logger
}

// Client is an RMS API client. It is safe for concurrent use; the retry
// budget belongs to a [Session].
type Client struct {
	base     *url.URL
	tokens   oauth2.TokenSource
	oauth    OAuthTokens
	http     *http.Client
	attempts int
	budget   time.Duration
	wait     time.Duration
	meter    Meter
	log      *slog.Logger
}

// NewClient returns a client. It does no I/O.
func NewClient(o ClientOptions) (*Client, error) {
	raw := o.BaseURL
	if raw == "" {
		raw = DefaultBaseURL
	}
	base, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("rms: bad base URL %q", raw)
	}
	if o.Tokens == nil && o.OAuth == nil {
		return nil, errors.New("rms: no token source")
	}
	c := &Client{base: base, tokens: o.Tokens, oauth: o.OAuth, http: o.HTTP, meter: o.Meter, log: o.Logger,
		attempts: o.Attempts, budget: o.RetryTime, wait: o.RetryWait}
	if c.http == nil {
		c.http = http.DefaultClient
	}
	if c.attempts <= 0 {
		c.attempts = DefaultAttempts
	}
	if c.budget <= 0 {
		c.budget = DefaultRetryTime
	}
	if c.wait <= 0 {
		c.wait = DefaultRetryWait
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	return c, nil
}

// Session is the client for one run: its requests share one retry
// budget. It is not safe for concurrent use.
type Session struct {
	c    *Client
	used time.Duration
	// Requests counts the requests sent (attempts included).
	Requests int
}

// Session starts a run's session with a fresh retry budget.
func (c *Client) Session() *Session { return &Session{c: c} }

// Page is one answer of GET /devices.
type Page struct {
	Devices []Device
	// Total is meta.total, the number of devices RMS has.
	Total int
}

// Devices fetches one page of the company's devices.
func (s *Session) Devices(ctx context.Context, limit, offset int) (Page, error) {
	q := url.Values{"limit": {strconv.Itoa(limit)}, "offset": {strconv.Itoa(offset)}}
	var env struct {
		Data []Device `json:"data"`
		Meta struct {
			Total int `json:"total"`
		} `json:"meta"`
	}
	if err := s.get(ctx, "/devices", q, &env); err != nil {
		return Page{}, err
	}
	return Page{Devices: env.Data, Total: env.Meta.Total}, nil
}

// rmsTime is the layout of RMS query dates (UTC).
const rmsTime = "2006-01-02 15:04:05"

// DataUsage fetches a device's data usage per day between from and to,
// summed over its modems and SIMs.
func (s *Session) DataUsage(ctx context.Context, id int64, from, to time.Time) ([]DayUsage, error) {
	q := url.Values{"start_date": {from.UTC().Format(rmsTime)}, "end_date": {to.UTC().Format(rmsTime)}}
	var env struct {
		Data []usageDay `json:"data"`
	}
	if err := s.get(ctx, fmt.Sprintf("/devices/%d/data-usage", id), q, &env); err != nil {
		return nil, err
	}
	return sumUsage(env.Data)
}

// get sends GET path?q, retrying transient failures within the attempts
// and the session's budget, and decodes the 200 envelope's fields into out.
func (s *Session) get(ctx context.Context, path string, q url.Values, out any) error {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval = s.c.wait
	b.Reset()
	for attempt := 1; ; attempt++ {
		start := time.Now()
		err := s.once(ctx, path, q, out)
		if err == nil || !IsTransient(err) || ctx.Err() != nil {
			return err
		}
		if attempt >= s.c.attempts {
			return fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
		}
		wait := b.NextBackOff()
		s.used += time.Since(start) + wait
		if s.used > s.c.budget {
			return fmt.Errorf("%w (retry budget of %s for the run used up)", err, s.c.budget)
		}
		s.c.log.Debug("rms request retried", "path", path, "attempt", attempt, "wait", wait, "error", err)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return err
		}
	}
}

// once sends one request.
func (s *Session) once(ctx context.Context, path string, q url.Values, out any) error {
	if s.c.meter != nil {
		if err := s.c.meter.Take(ctx); err != nil {
			return err
		}
	}
	tok, err := s.c.token(ctx)
	if err != nil {
		return &TokenError{Err: err}
	}
	err = s.send(ctx, path, q, out, tok)
	if status(err) != http.StatusUnauthorized || s.c.oauth == nil {
		return err
	}

	// RMS refused a token we took for valid (revoked, rotated elsewhere):
	// renew it once, shared with every other caller, and resend.
	if tok, err = s.c.oauth.Renew(ctx, tok.AccessToken); err != nil {
		return &TokenError{Err: err}
	}
	if s.c.meter != nil {
		if err := s.c.meter.Take(ctx); err != nil {
			return err
		}
	}
	return s.send(ctx, path, q, out, tok)
}

// token returns the access token to send.
func (c *Client) token(ctx context.Context) (*oauth2.Token, error) {
	if c.oauth != nil {
		return c.oauth.Token(ctx)
	}
	return c.tokens.Token()
}

// send sends one GET with tok and decodes the answer into out.
func (s *Session) send(ctx context.Context, path string, q url.Values, out any,
	tok *oauth2.Token) error {
	u := *s.c.base
	u.Path += path
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("rms: %w", err)
	}
	tok.SetAuthHeader(req)
	req.Header.Set("Accept", "application/json")

	s.Requests++
	resp, err := s.c.http.Do(req)
	if err != nil {
		return fmt.Errorf("rms: GET %s: %w", path, &connError{err})
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("rms: GET %s: read answer: %w", path, &connError{err})
	}
	return decode(resp, path, body, out)
}

// decode turns an answer into out or an [*APIError].
func decode(resp *http.Response, path string, body []byte, out any) error {
	var env struct {
		Success *bool        `json:"success"`
		Errors  []ErrorEntry `json:"errors"`
	}
	jsonErr := json.Unmarshal(body, &env)
	if resp.StatusCode != http.StatusOK || (env.Success != nil && !*env.Success) {
		return &APIError{Status: resp.StatusCode, Method: http.MethodGet, Path: path,
			Errors: env.Errors, RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	}
	if jsonErr != nil {
		return fmt.Errorf("rms: GET %s: decode answer: %w", path, jsonErr)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("rms: GET %s: decode answer: %w", path, err)
	}
	return nil
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}
