package simulate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"
)

// Defaults for the zero fields of a [Config].
const (
	DefaultRouters      = 10
	DefaultDuration     = 24 * time.Hour
	DefaultInterval     = 5 * time.Minute
	DefaultBatch        = 1
	DefaultClients      = 4
	DefaultRebootProb   = 0.002
	DefaultGlitchProb   = 0.002
	DefaultLateProb     = 0.01
	DefaultDupProb      = 0.01
	DefaultMaxRetries   = 8
	DefaultMaxRetryWait = 30 * time.Second
	DefaultHTTPTimeout  = 30 * time.Second
)

// MaxRouters is the largest fleet: serials have six digits.
const MaxRouters = 999_999

// Config says which fleet to simulate and how to send its readings. Zero
// fields take the Default values; [Plan] needs only the fleet fields,
// [Run] also URL and Token.
type Config struct {
	URL      string        // server base, such as http://127.0.0.1:8080; required by Run
	Token    string        // fleet token, sent as a bearer token; required by Run
	Routers  int           // fleet size
	Start    time.Time     // simulated time of the first reading; zero means Now - Duration
	Duration time.Duration // simulated span
	Interval time.Duration // reading period per router, rounded to whole seconds
	Rate     float64       // HTTP posts per second; 0 means as fast as possible
	Batch    int           // readings per POST: 1 sends one JSON object, more send NDJSON
	Clients  int           // concurrent posting goroutines
	Seed     int64
	// Prefix starts every serial and name (default "SIM"): serials are
	// <Prefix>-000001, names <Prefix>-ROUTER-0001. The simulator does not
	// carry counters from one run's span to the next, so a fleet posted
	// for another span should get its own prefix.
	Prefix string

	// RebootProb, GlitchProb, LateProb and DupProb are the chances that a
	// reading is a reboot, a counter glitch, a late delivery or a duplicate
	// delivery. Zero means the default; a negative value disables it.
	RebootProb, GlitchProb, LateProb, DupProb float64

	Gzip       bool         // gzip the bodies (Content-Encoding: gzip)
	HTTPClient *http.Client // nil means a client with DefaultHTTPTimeout
	Log        *slog.Logger // nil means no logging

	// MaxRetries bounds the retries of one POST answered 429, 502, 503 or
	// 504 or failed in transport; negative means none.
	MaxRetries int
	// MaxRetryWait caps one wait between retries, whatever Retry-After says.
	MaxRetryWait time.Duration
	// Now is the clock for pacing, Retry-After dates, Elapsed and the
	// default Start; nil means time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx is done, returning ctx's error then; nil
	// means a timer. Tests inject it together with Now.
	Sleep func(ctx context.Context, d time.Duration) error
}

// withDefaults returns c with its zero fields set, probabilities clamped
// to [0, 1] and the interval in whole seconds of at least one.
func (c Config) withDefaults() Config {
	c.Routers = min(orDefault(c.Routers, DefaultRouters), MaxRouters)
	c.Duration = orDefault(c.Duration, DefaultDuration)
	c.Interval = max(orDefault(c.Interval, DefaultInterval).Round(time.Second), time.Second)
	c.Batch = orDefault(c.Batch, DefaultBatch)
	c.Clients = orDefault(c.Clients, DefaultClients)
	if c.Prefix == "" {
		c.Prefix = "SIM"
	}
	switch {
	case c.MaxRetries == 0:
		c.MaxRetries = DefaultMaxRetries
	case c.MaxRetries < 0:
		c.MaxRetries = 0
	}
	c.MaxRetryWait = orDefault(c.MaxRetryWait, DefaultMaxRetryWait)

	c.RebootProb = probability(c.RebootProb, DefaultRebootProb)
	c.GlitchProb = probability(c.GlitchProb, DefaultGlitchProb)
	c.LateProb = probability(c.LateProb, DefaultLateProb)
	c.DupProb = probability(c.DupProb, DefaultDupProb)

	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Sleep == nil {
		c.Sleep = sleep
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Start.IsZero() {
		c.Start = c.Now().Add(-c.Duration)
	}
	c.Start = c.Start.UTC().Truncate(time.Second)
	return c
}

// orDefault returns def for a zero or negative v.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// probability returns def for 0, 0 for a negative p and p capped at 1.
func probability(p, def float64) float64 {
	switch {
	case p == 0:
		return def
	case p < 0:
		return 0
	}
	return min(p, 1)
}

// validate checks the fields Run needs before defaults hide mistakes.
func (c Config) validate() error {
	var errs []error
	if err := checkURL(c.URL); err != nil {
		errs = append(errs, err)
	}
	if c.Token == "" {
		errs = append(errs, errors.New("token is required: the fleet token to post with"))
	}

	for _, f := range []struct {
		name string
		v    int64
	}{
		{"routers", int64(c.Routers)}, {"batch", int64(c.Batch)}, {"clients", int64(c.Clients)},
		{"duration", int64(c.Duration)}, {"interval", int64(c.Interval)},
		{"max retry wait", int64(c.MaxRetryWait)},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("%s is %d, want 0 (the default) or more", f.name, f.v))
		}
	}
	if c.Routers > MaxRouters {
		errs = append(errs, fmt.Errorf("routers is %d, want at most %d", c.Routers, MaxRouters))
	}
	if c.Rate < 0 {
		errs = append(errs, fmt.Errorf("rate is %g posts/s, want 0 (unlimited) or more", c.Rate))
	}
	errs = append(errs, checkProbabilities(c)...)

	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("simulate: config: %w", err)
	}
	return nil
}

// checkURL checks the server base URL.
func checkURL(raw string) error {
	if raw == "" {
		return errors.New("url is required: the server base, such as http://127.0.0.1:8080")
	}
	const want = "want http:// or https:// and a host"
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("url %q: %s: %w", raw, want, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("url %q: %s", raw, want)
	}
	return nil
}

// checkProbabilities checks that each anomaly probability, and their sum
// after defaults, is at most 1.
func checkProbabilities(c Config) []error {
	var errs []error
	for _, p := range []struct {
		name string
		v    float64
	}{
		{"reboot", c.RebootProb}, {"glitch", c.GlitchProb},
		{"late", c.LateProb}, {"dup", c.DupProb},
	} {
		if p.v > 1 {
			errs = append(errs, fmt.Errorf("%s probability is %g, want at most 1", p.name, p.v))
		}
	}

	d := c.withDefaults()
	if sum := d.RebootProb + d.GlitchProb + d.LateProb + d.DupProb; sum > 1 {
		errs = append(errs, fmt.Errorf("anomaly probabilities add up to %g, want at most 1", sum))
	}
	return errs
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
