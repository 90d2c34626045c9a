package geo_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/internal/breaker"
	"github.com/routerlogger/routerlogger/sync/geo"
	"github.com/routerlogger/routerlogger/sync/geo/geotest"
)

var ee = geo.Cell{Radio: geo.RadioLTE, MCC: "234", MNC: "30", Area: 3211, ID: 21283329}

func TestClient_Locate(t *testing.T) {
	fake := geotest.New(t)
	fake.Add(cellEE, fixLondon)
	newClient := func(key string) *geo.Client {
		return geo.NewClient(geo.ClientOptions{URL: fake.URL, Key: key, RetryWait: time.Millisecond})
	}

	tests := []struct {
		name     string
		key      string
		failures []geotest.Failure
		want     geo.Location
		wantErr  error // nil: no error
		calls    int
	}{
		{name: "found", key: geotest.Key, want: geo.Location{Found: true, Lat: fixLondon.Lat,
			Lon: fixLondon.Lon, AccuracyM: 1200}, calls: 1},
		{name: "bad key", key: "FAKE-nope", wantErr: geo.ErrKey, calls: 1},
		{name: "HTTP 401", key: geotest.Key, failures: []geotest.Failure{{Status: 401}},
			wantErr: geo.ErrKey, calls: 1},
		{name: "HTTP 404", key: geotest.Key, failures: []geotest.Failure{{Status: 404}},
			wantErr: geo.ErrEndpoint, calls: 1},
		{name: "5xx three times", key: geotest.Key, failures: []geotest.Failure{{Status: 502},
			{Status: 500}, {Status: 504}}, wantErr: geo.ErrUnavailable, calls: 3},
		{name: "rate limit in the body", key: geotest.Key, failures: []geotest.Failure{
			{Status: 200, Body: `{"status":"error","message":"Rate limit exceeded"}`}},
			want:  geo.Location{Found: true, Lat: fixLondon.Lat, Lon: fixLondon.Lon, AccuracyM: 1200},
			calls: 2},
		{name: "invalid request", key: geotest.Key, failures: []geotest.Failure{
			{Status: 200, Body: `{"status":"error","message":"Invalid request"}`}}, calls: 1,
			wantErr: errOther},
		{name: "ok without a position", key: geotest.Key, failures: []geotest.Failure{
			{Status: 200, Body: `{"status":"ok","balance":5}`}}, calls: 1, wantErr: errOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := fake.Calls()
			fake.FailNext(tt.failures...)
			loc, err := newClient(tt.key).Locate(t.Context(), ee)
			loc.Balance = nil
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("Locate: %v", err)
			case tt.wantErr == errOther && (err == nil || errors.Is(err, geo.ErrKey) ||
				errors.Is(err, geo.ErrUnavailable)):
				t.Fatalf("Locate: %v, want an error about this cell alone", err)
			case tt.wantErr != nil && tt.wantErr != errOther && !errors.Is(err, tt.wantErr):
				t.Fatalf("Locate: %v, want %v", err, tt.wantErr)
			case err == nil && loc != tt.want:
				t.Fatalf("Locate = %+v, want %+v", loc, tt.want)
			}
			if got := fake.Calls() - before; got != tt.calls {
				t.Fatalf("%d calls, want %d", got, tt.calls)
			}
		})
	}
}

// errOther marks a per-cell error: neither the key nor availability.
var errOther = errors.New("other")

// TestClient_BreakerOpen checks an open breaker is not retried and asks
// for its open time as back-off.
func TestClient_BreakerOpen(t *testing.T) {
	fake := geotest.New(t)
	hc := &http.Client{Transport: breaker.New("geo-test", nil, breaker.Settings{Failures: 1})}
	cl := geo.NewClient(geo.ClientOptions{URL: fake.URL, Key: geotest.Key, HTTP: hc,
		Attempts: 5, RetryWait: time.Millisecond})

	fake.FailNext(geotest.Failure{Status: 503})
	_, err := cl.Locate(t.Context(), ee)
	if !errors.Is(err, geo.ErrUnavailable) || !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("Locate: %v, want unavailable with the breaker open", err)
	}
	if fake.Calls() != 1 || geo.RetryAfter(err) != breaker.DefaultOpenFor {
		t.Fatalf("%d calls, retry after %s; want 1 call and %s", fake.Calls(), geo.RetryAfter(err),
			breaker.DefaultOpenFor)
	}
}

// TestClient_RetryAfterDate checks an HTTP-date Retry-After beyond the
// wait cap ends the tries at once and is reported.
func TestClient_RetryAfterDate(t *testing.T) {
	fake := geotest.New(t)
	cl := geo.NewClient(geo.ClientOptions{URL: fake.URL, Key: geotest.Key, RetryWait: time.Millisecond})
	at := time.Now().Add(10 * time.Minute).UTC().Format(http.TimeFormat)
	fake.FailNext(geotest.Failure{Status: 429, RetryAfter: at})

	_, err := cl.Locate(t.Context(), ee)
	if d := geo.RetryAfter(err); !errors.Is(err, geo.ErrUnavailable) || d < 9*time.Minute {
		t.Fatalf("Locate: %v, retry after %s; want unavailable for about 10 minutes", err, d)
	}
	if fake.Calls() != 1 {
		t.Fatalf("%d calls, want 1", fake.Calls())
	}
}
