package clickup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/routerlogger/routerlogger/internal/clock"
)

// Defaults of [ClientConfig].
const (
	DefaultBaseURL = "https://api.clickup.com/api/v2"
	// DefaultLowWater is the X-RateLimit-Remaining at or below which the
	// client waits for the reset before its next request.
	DefaultLowWater = 3
	// DefaultMaxRetries is how many times a request answered 429 is retried.
	DefaultMaxRetries = 3
	// minWait is the wait after a 429 that names no time in the future.
	minWait = time.Second
)

// Sleeper waits d or until ctx ends; [clock.Sleep] is the real one.
// Tests inject one that records waits and advances a fake clock.
type Sleeper func(ctx context.Context, d time.Duration) error

// ClientConfig configures a [Client].
type ClientConfig struct {
	// BaseURL is the API root (DefaultBaseURL).
	BaseURL string
	// Token is a personal token (pk_…, sent as is) or an OAuth access
	// token (sent as Bearer).
	Token string
	// HTTP is the client to send with (its timeout and breaker); nil
	// means one with a 30 s timeout.
	HTTP *http.Client
	// LowWater is the remaining-request count that makes the client wait
	// for the reset (DefaultLowWater; negative turns it off).
	LowWater int
	// MaxRetries bounds the retries of one request answered 429
	// (DefaultMaxRetries).
	MaxRetries int
	Clock      clock.Clock
	Sleep      Sleeper
	Logger     *slog.Logger
	// Registerer, when set, receives the client's metrics.
	Registerer prometheus.Registerer
}

// Client calls the ClickUp API v2. It is safe for concurrent use; its
// rate-limit state is shared by all calls.
type Client struct {
	base     string
	auth     string
	http     *http.Client
	lowWater int
	retries  int
	clock    clock.Clock
	sleep    Sleeper
	log      *slog.Logger
	m        *clientMetrics

	mu        sync.Mutex
	notBefore time.Time
}

// NewClient returns a client. It does no I/O.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.Token == "" {
		return nil, errors.New("clickup: a token is required")
	}
	m, err := newClientMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	c := &Client{
		base: strings.TrimRight(cmpOr(cfg.BaseURL, DefaultBaseURL), "/"),
		auth: authHeader(cfg.Token), http: cfg.HTTP, lowWater: cfg.LowWater,
		retries: cfg.MaxRetries, clock: cfg.Clock, sleep: cfg.Sleep, log: cfg.Logger, m: m,
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: 30 * time.Second}
	}
	if c.lowWater == 0 {
		c.lowWater = DefaultLowWater
	}
	if c.retries <= 0 {
		c.retries = DefaultMaxRetries
	}
	if c.clock == nil {
		c.clock = clock.Real{}
	}
	if c.sleep == nil {
		c.sleep = clock.Sleep
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// authHeader is the Authorization value of token: personal tokens go as
// they are, OAuth tokens as Bearer.
func authHeader(token string) string {
	if strings.HasPrefix(token, "pk_") || strings.HasPrefix(token, "Bearer ") {
		return token
	}
	return "Bearer " + token
}

// do sends one request and decodes the JSON answer into out (when not
// nil). It waits for the rate limit before sending and retries a 429
// after the wait ClickUp asks for, as long as the wait ends before ctx's
// deadline; otherwise it returns a [*RateLimitError].
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("clickup: encode %s %s: %w", method, path, err)
		}
	}

	for attempt := 0; ; attempt++ {
		if err := c.throttle(ctx); err != nil {
			return err
		}
		resp, err := c.send(ctx, method, path, body)
		if err != nil {
			return err
		}
		wait, limited := c.observe(resp)
		if !limited {
			return c.decode(method, path, resp, out)
		}

		apiErr := c.decode(method, path, resp, nil)
		if attempt >= c.retries {
			return &RateLimitError{Wait: wait, Err: apiErr}
		}
		c.log.Debug("clickup rate limited", "method", method, "path", path, "wait", wait)
		if err := c.wait(ctx, wait, apiErr); err != nil {
			return err
		}
	}
}

// send makes and sends one request.
func (c *Client) send(ctx context.Context, method, path string, body []byte) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("clickup: %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", c.auth)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	resp, err := c.http.Do(req)
	if err != nil {
		c.m.requests.WithLabelValues("error").Inc()
		return nil, fmt.Errorf("clickup: %s %s: %w", method, path, err)
	}
	c.m.requests.WithLabelValues(strconv.Itoa(resp.StatusCode)).Inc()
	return resp, nil
}

// decode reads resp: a 2xx body into out, anything else into an [*Error].
func (c *Client) decode(method, path string, resp *http.Response, out any) error {
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("clickup: %s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &Error{Method: method, Path: path, Status: resp.StatusCode}
		var body struct {
			Err   string `json:"err"`
			ECODE string `json:"ECODE"`
		}
		if json.Unmarshal(raw, &body) == nil {
			e.Code, e.Message = body.ECODE, body.Err
		}
		if e.Message == "" {
			e.Message = strings.TrimSpace(string(raw[:min(len(raw), 200)]))
		}
		return e
	}
	if out == nil || len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("clickup: %s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// observe reads the rate-limit headers of resp: when few requests remain
// (a success at or under the low-water mark) the next one waits for the
// reset. For a 429 it returns the wait before
// the retry: Retry-After when given, else until X-RateLimit-Reset.
func (c *Client) observe(resp *http.Response) (time.Duration, bool) {
	now := c.clock.Now()
	reset, hasReset := unixHeader(resp.Header, "X-RateLimit-Reset")
	remaining, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("X-RateLimit-Remaining")))
	limited := resp.StatusCode == http.StatusTooManyRequests
	// A 429 names its own wait (Retry-After first), which replaces this.
	if !limited && err == nil && hasReset && c.lowWater >= 0 && remaining <= c.lowWater {
		c.mu.Lock()
		if reset.After(c.notBefore) {
			c.notBefore = reset
		}
		c.mu.Unlock()
	}
	if !limited {
		return 0, false
	}

	if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s >= 0 {
		return max(time.Duration(s)*time.Second, minWait), true
	}
	if at, err := http.ParseTime(resp.Header.Get("Retry-After")); err == nil {
		return max(at.Sub(now), minWait), true
	}
	if hasReset {
		return max(reset.Sub(now), minWait), true
	}
	return minWait, true
}

// throttle waits until the reset when the last answer said few requests
// remain.
func (c *Client) throttle(ctx context.Context) error {
	c.mu.Lock()
	d := c.notBefore.Sub(c.clock.Now())
	c.mu.Unlock()
	if d <= 0 {
		return nil
	}
	c.log.Debug("clickup throttling", "wait", d)
	return c.wait(ctx, d, errors.New("few requests remain until the rate-limit reset"))
}

// wait sleeps d unless that would pass ctx's deadline, in which case it
// returns a [*RateLimitError] at once.
func (c *Client) wait(ctx context.Context, d time.Duration, reason error) error {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return &RateLimitError{Wait: d, Err: fmt.Errorf("%w: %w", errDeadline, reason)}
	}
	c.m.waited.Add(d.Seconds())
	if err := c.sleep(ctx, d); err != nil {
		return fmt.Errorf("clickup: wait for the rate limit: %w", err)
	}
	return nil
}

// unixHeader parses a header holding Unix seconds.
func unixHeader(h http.Header, name string) (time.Time, bool) {
	s, err := strconv.ParseInt(strings.TrimSpace(h.Get(name)), 10, 64)
	if err != nil || s <= 0 {
		return time.Time{}, false
	}
	return time.Unix(s, 0), true
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// clientMetrics are the client's counters.
type clientMetrics struct {
	requests *prometheus.CounterVec
	waited   prometheus.Counter
}

func newClientMetrics(reg prometheus.Registerer) (*clientMetrics, error) {
	m := &clientMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "routerlogger_clickup_requests_total",
			Help: "Requests sent to ClickUp by answer status (error: no answer).",
		}, []string{"status"}),
		waited: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "routerlogger_clickup_rate_limit_wait_seconds_total",
			Help: "Time spent waiting for ClickUp's rate limit.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.waited} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("clickup: register metrics: %w", err)
		}
	}
	return m, nil
}
