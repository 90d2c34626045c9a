// Package breaker puts a circuit breaker (sony/gobreaker) in front of an
// outside service's HTTP client, so that a service that is down is not
// hammered by every job and request while it recovers.
//
// [Transport] is an http.RoundTripper: a transport error or a 5xx answer
// counts as a failure, anything else (2xx, 3xx and 4xx, 429 included, which
// say the service is up and answering) as a success. After
// [Settings.Failures] failures in a row the breaker opens and requests fail
// at once with an error wrapping [ErrOpen], for [Settings.OpenFor]; then one
// trial request is let through and its outcome closes or reopens it.
//
// The state of every breaker is the gauge routerlogger_breaker_state
// {service} (0 closed, 1 half-open, 2 open) and each refused request counts
// in routerlogger_breaker_rejected_total{service}.
package breaker

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"

	"github.com/routerlogger/routerlogger/internal/promreg"
)

// Defaults of [Settings].
const (
	DefaultFailures = 5
	DefaultOpenFor  = 30 * time.Second
)

// ErrOpen is wrapped by the error of a request refused because the breaker
// is open (or half-open with its trial request already out).
var ErrOpen = errors.New("circuit breaker open")

// Settings configure a [Transport]; the zero value gives the defaults.
type Settings struct {
	// Failures is how many failures in a row open the breaker.
	Failures int
	// OpenFor is how long the breaker stays open before a trial request.
	OpenFor time.Duration
	// Registerer, when set, receives the breaker metrics. Several
	// transports may share one registerer.
	Registerer prometheus.Registerer
}

// Transport is an http.RoundTripper behind a circuit breaker. It is safe
// for concurrent use.
type Transport struct {
	service string
	base    http.RoundTripper
	cb      *gobreaker.CircuitBreaker[*http.Response]
	// onReject counts a request refused by the open breaker.
	onReject func()
}

// errServer marks a 5xx answer as a failure for the breaker; the answer
// itself is still returned to the caller.
type errServer struct{ status int }

func (e errServer) Error() string { return fmt.Sprintf("server answered %d", e.status) }

// New returns a transport for service over base (http.DefaultTransport
// when nil).
func New(service string, base http.RoundTripper, s Settings) *Transport {
	if base == nil {
		base = http.DefaultTransport
	}
	failures := s.Failures
	if failures <= 0 {
		failures = DefaultFailures
	}
	openFor := s.OpenFor
	if openFor <= 0 {
		openFor = DefaultOpenFor
	}

	m := metricsFor(s.Registerer)
	t := &Transport{service: service, base: base}
	t.cb = gobreaker.NewCircuitBreaker[*http.Response](gobreaker.Settings{
		Name:        service,
		MaxRequests: 1,
		Timeout:     openFor,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.ConsecutiveFailures >= uint32(failures)
		},
		OnStateChange: func(_ string, _, to gobreaker.State) {
			m.state.WithLabelValues(service).Set(float64(to))
		},
	})
	m.state.WithLabelValues(service).Set(float64(gobreaker.StateClosed))
	m.rejected.WithLabelValues(service).Add(0)
	t.onReject = func() { m.rejected.WithLabelValues(service).Inc() }
	return t
}

// RoundTrip sends req through the breaker.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.cb.Execute(func() (*http.Response, error) {
		resp, err := t.base.RoundTrip(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode >= 500 {
			return resp, errServer{resp.StatusCode}
		}
		return resp, nil
	})

	var se errServer
	switch {
	case errors.As(err, &se):
		return resp, nil
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		t.onReject()
		return nil, fmt.Errorf("%s: %w", t.service, ErrOpen)
	}
	return resp, err
}

// State returns the breaker's state: "closed", "half-open" or "open".
func (t *Transport) State() string { return t.cb.State().String() }

// metrics are shared by every transport registered on one registerer.
type metrics struct {
	state    *prometheus.GaugeVec
	rejected *prometheus.CounterVec
}

// metricsFor returns the breaker metrics on reg: every transport
// registered on one registry shares them (unregistered ones for a nil reg).
func metricsFor(reg prometheus.Registerer) *metrics {
	state, err := promreg.Shared(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "routerlogger_breaker_state",
		Help: "Circuit breaker state per outside service: 0 closed, 1 half-open, 2 open.",
	}, []string{"service"}))
	if err != nil {
		panic(err) // another collector under our name: a programming error at setup
	}
	rejected, err := promreg.Shared(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "routerlogger_breaker_rejected_total",
		Help: "Requests refused at once because the service's breaker was open.",
	}, []string{"service"}))
	if err != nil {
		panic(err)
	}
	return &metrics{state: state, rejected: rejected}
}
