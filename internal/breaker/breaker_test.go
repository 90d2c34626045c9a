package breaker_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/routerlogger/routerlogger/internal/breaker"
)

func TestTransport(t *testing.T) {
	var status atomic.Int32
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.WriteHeader(int(status.Load()))
	}))
	defer srv.Close()

	reg := prometheus.NewRegistry()
	tr := breaker.New("fake", nil, breaker.Settings{Failures: 3, OpenFor: 200 * time.Millisecond, Registerer: reg})
	client := &http.Client{Transport: tr}
	get := func() (int, error) {
		resp, err := client.Get(srv.URL)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	// 429s and 4xx say the service answers: they never open the breaker.
	status.Store(http.StatusTooManyRequests)
	for range 5 {
		if code, err := get(); err != nil || code != 429 {
			t.Fatalf("429 phase: code %d, err %v", code, err)
		}
	}
	if tr.State() != "closed" {
		t.Fatalf("state after 429s = %s, want closed", tr.State())
	}

	// Three 5xx in a row open it; the caller still sees each 5xx answer.
	status.Store(http.StatusBadGateway)
	for range 3 {
		if code, err := get(); err != nil || code != 502 {
			t.Fatalf("5xx phase: code %d, err %v", code, err)
		}
	}
	before := hits.Load()
	_, err := get()
	if !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("open breaker: err = %v, want ErrOpen", err)
	}
	if hits.Load() != before {
		t.Fatal("an open breaker let a request reach the service")
	}
	if got := testutil.ToFloat64(metric(t, reg, "routerlogger_breaker_state")); got != 2 {
		t.Fatalf("state gauge = %v, want 2 (open)", got)
	}

	// After OpenFor one trial goes through; a success closes the breaker.
	time.Sleep(250 * time.Millisecond)
	status.Store(http.StatusOK)
	if code, err := get(); err != nil || code != 200 {
		t.Fatalf("trial: code %d, err %v", code, err)
	}
	if tr.State() != "closed" {
		t.Fatalf("state after a good trial = %s, want closed", tr.State())
	}

	out, err := testutil.GatherAndLint(reg)
	if err != nil || len(out) > 0 {
		t.Fatalf("metric lint: %v %v", err, out)
	}
	n, _ := testutil.GatherAndCount(reg, "routerlogger_breaker_rejected_total")
	if n != 1 {
		t.Fatalf("rejected series = %d, want 1", n)
	}
}

// metric returns the collector of the named gauge for service "fake".
func metric(t *testing.T, reg *prometheus.Registry, name string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if strings.Contains(m.String(), "fake") {
				return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "x", Help: "x"},
					func() float64 { return m.GetGauge().GetValue() })
			}
		}
	}
	t.Fatalf("no %s for service fake", name)
	return nil
}
