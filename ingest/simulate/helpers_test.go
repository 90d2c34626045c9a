package simulate_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/ingest/simulate"
)

// t0 is the simulated start of most tests.
var t0 = time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)

// testConfig is a small fleet with anomalies common enough that every
// kind shows up.
func testConfig() simulate.Config {
	return simulate.Config{
		Token:      "FAKE-fleet-token",
		Routers:    6,
		Start:      t0,
		Duration:   12 * time.Hour,
		Interval:   5 * time.Minute,
		Seed:       42,
		RebootProb: 0.02, GlitchProb: 0.02, LateProb: 0.03, DupProb: 0.03,
	}
}

// fakeClock is a clock that only moves when someone sleeps on it.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept []time.Duration
}

func newFakeClock() *fakeClock { return &fakeClock{now: t0} }

// Now returns the fake time.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep records d and moves the clock on by it at once.
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.slept = append(c.slept, d)
	c.now = c.now.Add(max(d, 0))
	return nil
}

// sleeps returns the positive waits so far.
func (c *fakeClock) sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.DeleteFunc(slices.Clone(c.slept), func(d time.Duration) bool { return d <= 0 })
}

// post is one request the fake server received.
type post struct {
	auth, contentType, encoding string
	lines                       int // readings in the body
	single                      bool
	at                          time.Time // by the server's clock
}

// fakeServer is a telemetry API that decodes and records what is posted
// and counts duplicates by serial and time, as RouterLogger does.
type fakeServer struct {
	t     testing.TB
	URL   string
	clock func() time.Time
	// hook, when set, may answer request n itself by returning true.
	hook func(w http.ResponseWriter, r *http.Request, n int) bool

	mu       sync.Mutex
	requests int
	posts    []post
	readings []simulate.Reading // in arrival order
	seen     map[string]bool
}

// newFakeServer starts a fake server, closed when the test ends.
func newFakeServer(t testing.TB,
	hook func(w http.ResponseWriter, r *http.Request, n int) bool) *fakeServer {
	t.Helper()
	f := &fakeServer{t: t, hook: hook, clock: time.Now, seen: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func (f *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	n := f.requests
	f.requests++
	f.mu.Unlock()
	if f.hook != nil && f.hook(w, r, n) {
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/api/v1/telemetry" {
		f.t.Errorf("request %s %s, want POST /api/v1/telemetry", r.Method, r.URL.Path)
		http.Error(w, "not found", http.StatusNotFound)
		return
	}

	p := post{auth: r.Header.Get("Authorization"), contentType: r.Header.Get("Content-Type"),
		encoding: r.Header.Get("Content-Encoding"), at: f.clock()}
	rs, single, err := decodeBody(r)
	if err != nil {
		f.t.Errorf("request %d: %v", n, err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p.lines, p.single = len(rs), single

	accepted, dups := f.store(p, rs)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]any{"accepted": accepted, "duplicates": dups,
		"rejected": []any{}})
}

// store records a post and returns its accepted and duplicate counts.
func (f *fakeServer) store(p post, rs []simulate.Reading) (accepted, dups int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.posts = append(f.posts, p)
	for _, r := range rs {
		f.readings = append(f.readings, r)
		k := r.DeviceID + "@" + r.Time.String()
		if f.seen[k] {
			dups++
			continue
		}
		f.seen[k] = true
		accepted++
	}
	return accepted, dups
}

// received returns the posts and readings so far.
func (f *fakeServer) received() ([]post, []simulate.Reading) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.posts), slices.Clone(f.readings)
}

// decodeBody decodes a body strictly: one object for application/json,
// one object per line for NDJSON, gunzipped first when so encoded.
func decodeBody(r *http.Request) ([]simulate.Reading, bool, error) {
	var src io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, false, err
		}
		src = zr
	}
	body, err := io.ReadAll(src)
	if err != nil {
		return nil, false, err
	}

	if r.Header.Get("Content-Type") == "application/json" {
		var rd simulate.Reading
		err := strictDecode(bytes.TrimSpace(body), &rd)
		return []simulate.Reading{rd}, true, err
	}
	var rs []simulate.Reading
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		var rd simulate.Reading
		if err := strictDecode(sc.Bytes(), &rd); err != nil {
			return nil, false, err
		}
		rs = append(rs, rd)
	}
	return rs, false, sc.Err()
}

// strictDecode decodes exactly one JSON object with known fields only.
func strictDecode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return io.ErrUnexpectedEOF // more than one value
	}
	return nil
}

// readingKeys counts readings by their full JSON, to compare multisets.
func readingKeys(t testing.TB, rs []simulate.Reading) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, r := range rs {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		out[string(b)]++
	}
	return out
}

// plannedReadings returns the readings of the deliveries.
func plannedReadings(ds []simulate.Delivery) []simulate.Reading {
	out := make([]simulate.Reading, len(ds))
	for i, d := range ds {
		out[i] = d.Reading
	}
	return out
}

// sumTruth adds up the counts of a truth.
func sumTruth(tr simulate.Truth) (readings, dups int) {
	for _, r := range tr.Routers {
		readings += r.Readings
		dups += r.Duplicates
	}
	return readings, dups
}
