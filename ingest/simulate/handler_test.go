package simulate_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/routerlogger/routerlogger/ingest/httpapi"
	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/simulate"
	"github.com/routerlogger/routerlogger/ingest/tokens"
	"github.com/routerlogger/routerlogger/ingest/usage"
	"github.com/routerlogger/routerlogger/ingest/writer"
)

// fakeWriter stands in for the database writer behind the real HTTP
// handler: it answers ErrQueueFull to its first calls, then keeps the
// readings and counts duplicates by serial and time.
type fakeWriter struct {
	failFirst int

	mu     sync.Mutex
	calls  int
	seen   map[string]bool
	series map[string][]reading.Reading
}

// Write takes a batch as the writer does.
func (w *fakeWriter) Write(_ context.Context, b writer.Batch) (writer.Result, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls++
	if w.calls <= w.failFirst {
		return writer.Result{}, writer.ErrQueueFull
	}

	res := writer.Result{Rejected: b.Rejects}
	for _, r := range b.Readings {
		k := r.DeviceID + "@" + r.Time.String()
		if w.seen[k] {
			res.Duplicates++
			continue
		}
		w.seen[k] = true
		w.series[r.DeviceID] = append(w.series[r.DeviceID], r)
		res.Accepted++
	}
	return res, nil
}

// fakeTokens knows one fleet token.
type fakeTokens struct{ token string }

// Check accepts the one token.
func (f fakeTokens) Check(_ context.Context, token string) (tokens.Grant, error) {
	if token != f.token {
		return tokens.Grant{}, tokens.ErrInvalid
	}
	return tokens.Grant{ID: 1}, nil
}

func TestRun_RealHandler(t *testing.T) {
	cfg := testConfig()
	w := &fakeWriter{failFirst: 2, seen: map[string]bool{}, series: map[string][]reading.Reading{}}
	h := &httpapi.Handler{Writer: w, Tokens: fakeTokens{cfg.Token}, Parser: &reading.Parser{},
		RetryAfter: 3 * time.Second}
	r := chi.NewRouter()
	h.Routes(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)

	clock := newFakeClock()
	cfg.URL, cfg.Batch, cfg.Gzip, cfg.Clients = srv.URL, 30, true, 1
	cfg.Now, cfg.Sleep = clock.Now, clock.Sleep
	rep, err := simulate.Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}

	readings, dups := sumTruth(rep.Truth)
	if rep.Accepted != readings || rep.Duplicates != dups || rep.Rejected != 0 || rep.Retries != 2 {
		t.Errorf("report %+v, want %d accepted, %d duplicates, 0 rejected, 2 retries",
			rep, readings, dups)
	}
	if waits := clock.sleeps(); !slices.Equal(waits, []time.Duration{3 * time.Second, 3 * time.Second}) {
		t.Errorf("waited %v, want the handler's Retry-After of 3s twice", waits)
	}
	checkStoredUsage(t, w.series, rep.Truth)
}

// checkStoredUsage runs the usage rules over what the handler stored and
// compares the totals with the truth.
func checkStoredUsage(t *testing.T, series map[string][]reading.Reading, truth simulate.Truth) {
	t.Helper()
	if len(series) != len(truth.Routers) {
		t.Fatalf("readings of %d routers stored, want %d", len(series), len(truth.Routers))
	}
	for serial, rs := range series {
		slices.SortFunc(rs, func(a, b reading.Reading) int { return a.Time.Compare(b.Time) })
		in := make([]usage.Reading, len(rs))
		for i, r := range rs {
			in[i] = usage.Reading{Time: r.Time, Uptime: r.Uptime, Tx: r.TxBytes, Rx: r.RxBytes}
		}

		results, _, _ := usage.Replay(usage.State{}, in, usage.Options{CounterBits: rs[0].CounterBits})
		tx, rx := usage.Total(results, usage.Tx), usage.Total(results, usage.Rx)
		if want := truth.Routers[serial]; tx != want.TxBytes || rx != want.RxBytes {
			t.Errorf("%s: stored readings give tx %d rx %d, truth is tx %d rx %d",
				serial, tx, rx, want.TxBytes, want.RxBytes)
		}
	}
}
