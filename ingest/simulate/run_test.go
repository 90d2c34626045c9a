package simulate_test

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/routerlogger/routerlogger/ingest/simulate"
)

func TestRun_Delivers(t *testing.T) {
	tests := []struct {
		name     string
		batch    int
		clients  int
		gzip     bool
		wantType string
	}{
		{"single JSON objects", 1, 4, false, "application/json"},
		{"NDJSON batches", 25, 4, false, "application/x-ndjson"},
		{"gzipped NDJSON", 40, 3, true, "application/x-ndjson"},
		{"one client", 7, 1, false, "application/x-ndjson"},
		{"one batch for everything", 100_000, 2, true, "application/x-ndjson"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeServer(t, nil)
			cfg := testConfig()
			cfg.URL, cfg.Batch, cfg.Clients, cfg.Gzip = srv.URL, tt.batch, tt.clients, tt.gzip
			planned, truth := simulate.Plan(cfg)

			rep, err := simulate.Run(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}

			posts, got := srv.received()
			if !maps.Equal(readingKeys(t, got), readingKeys(t, plannedReadings(planned))) {
				t.Fatalf("server got %d readings, not the %d planned ones", len(got), len(planned))
			}
			checkReport(t, rep, truth, len(planned), len(posts))
			checkPosts(t, posts, cfg, tt.wantType, len(planned))
		})
	}
}

// checkReport checks a clean run's report against the plan.
func checkReport(t *testing.T, rep simulate.Report, truth simulate.Truth, deliveries, posts int) {
	t.Helper()
	readings, dups := sumTruth(truth)
	want := simulate.Report{Posted: deliveries, Accepted: readings, Duplicates: dups,
		Requests: posts, Elapsed: rep.Elapsed, Truth: truth}
	if !reflect.DeepEqual(rep, want) {
		t.Errorf("report %+v,\nwant %+v", rep, want)
	}
	if dups == 0 {
		t.Error("the plan has no duplicates: the test needs some")
	}
}

// checkPosts checks the headers and sizes of every post.
func checkPosts(t *testing.T, posts []post, cfg simulate.Config, wantType string, readings int) {
	t.Helper()
	wantEncoding := ""
	if cfg.Gzip {
		wantEncoding = "gzip"
	}
	if want := (readings + cfg.Batch - 1) / cfg.Batch; len(posts) != want {
		t.Errorf("%d posts, want %d", len(posts), want)
	}

	short := 0
	for i, p := range posts {
		switch {
		case p.auth != "Bearer "+cfg.Token:
			t.Errorf("post %d: Authorization %q", i, p.auth)
		case p.contentType != wantType || p.encoding != wantEncoding:
			t.Errorf("post %d: Content-Type %q, Content-Encoding %q, want %q, %q",
				i, p.contentType, p.encoding, wantType, wantEncoding)
		case cfg.Batch == 1 && !p.single:
			t.Errorf("post %d: not a single JSON object", i)
		case p.lines > cfg.Batch:
			t.Errorf("post %d: %d readings, want at most %d", i, p.lines, cfg.Batch)
		case p.lines < cfg.Batch:
			short++
		}
	}
	if short > 1 {
		t.Errorf("%d posts are short of %d readings, want only the last", short, cfg.Batch)
	}
}

func TestRun_Retry(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		failFirst int
		header    func(now time.Time) string // Retry-After; "" for none
		maxWait   time.Duration
		wantWaits []time.Duration
	}{
		{"503 with Retry-After seconds", 503, 3, func(time.Time) string { return "2" }, 0,
			[]time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second}},
		{"429 with a Retry-After date", 429, 1,
			func(now time.Time) string { return now.Add(4 * time.Second).Format(http.TimeFormat) }, 0,
			[]time.Duration{4 * time.Second}},
		{"Retry-After beyond the cap", 503, 2, func(time.Time) string { return "3600" }, 5 * time.Second,
			[]time.Duration{5 * time.Second, 5 * time.Second}},
		{"503 without Retry-After backs off", 503, 4, func(time.Time) string { return "" }, 3 * time.Second,
			[]time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 3 * time.Second}},
		{"connection dropped", 0, 2, nil, 0,
			[]time.Duration{500 * time.Millisecond, time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, n int) bool {
				if n >= tt.failFirst {
					return false
				}
				refuse(t, w, tt.status, tt.header, clock.Now())
				return true
			})
			cfg := retryConfig(srv.URL, clock)
			cfg.MaxRetryWait = tt.maxWait
			planned, _ := simulate.Plan(cfg)

			rep, err := simulate.Run(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}

			_, got := srv.received()
			if !maps.Equal(readingKeys(t, got), readingKeys(t, plannedReadings(planned))) {
				t.Fatalf("server got %d readings, not the %d planned ones", len(got), len(planned))
			}
			if rep.Retries != tt.failFirst || !slices.Equal(clock.sleeps(), tt.wantWaits) {
				t.Errorf("%d retries after waits %v, want %d after %v",
					rep.Retries, clock.sleeps(), tt.failFirst, tt.wantWaits)
			}
		})
	}
}

// retryConfig is a small fleet posted by one client on a fake clock.
func retryConfig(url string, clock *fakeClock) simulate.Config {
	cfg := testConfig()
	cfg.URL, cfg.Routers, cfg.Duration, cfg.Batch, cfg.Clients = url, 2, time.Hour, 5, 1
	cfg.Now, cfg.Sleep = clock.Now, clock.Sleep
	return cfg
}

// refuse answers status with a Retry-After header, or drops the
// connection for status 0.
func refuse(t *testing.T, w http.ResponseWriter, status int,
	header func(time.Time) string, now time.Time) {
	if status == 0 {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		_ = conn.Close()
		return
	}
	if h := header(now); h != "" {
		w.Header().Set("Retry-After", h)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"accepted":0,"duplicates":0,"rejected":[],` +
		`"error":"database unavailable, retry later"}`))
}

func TestRun_GivesUp(t *testing.T) {
	clock := newFakeClock()
	srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) bool {
		refuse(t, w, http.StatusServiceUnavailable, func(time.Time) string { return "1" }, clock.Now())
		return true
	})
	cfg := retryConfig(srv.URL, clock)
	cfg.MaxRetries = 3

	rep, err := simulate.Run(t.Context(), cfg)
	if !errors.Is(err, simulate.ErrGaveUp) || !strings.Contains(err.Error(), "503") {
		t.Fatalf("error %v, want one wrapping ErrGaveUp that names the 503", err)
	}
	if rep.Requests != 4 || rep.Retries != 3 || rep.Posted != 0 {
		t.Errorf("%d requests, %d retries, %d posted; want 4, 3, 0", rep.Requests, rep.Retries, rep.Posted)
	}
}

func TestRun_Rate(t *testing.T) {
	const rate = 20 // posts per second
	every := time.Second / rate
	tests := []struct {
		name    string
		clients int
	}{
		{"one client", 1},
		{"clients share the rate", 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock()
			srv := newFakeServer(t, nil)
			srv.clock = clock.Now
			cfg := retryConfig(srv.URL, clock)
			cfg.Rate, cfg.Clients = rate, tt.clients

			rep, err := simulate.Run(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}

			posts, _ := srv.received()
			if min := time.Duration(len(posts)-1) * every; rep.Elapsed < min || len(posts) < 5 {
				t.Errorf("%d posts in %s, want at least 5 taking at least %s", len(posts), rep.Elapsed, min)
			}
			if tt.clients == 1 {
				checkSpacing(t, posts, every)
			}
		})
	}
}

// checkSpacing checks that posts arrived every period by the fake clock.
func checkSpacing(t *testing.T, posts []post, every time.Duration) {
	t.Helper()
	for i := 1; i < len(posts); i++ {
		if d := posts[i].at.Sub(posts[i-1].at); d != every {
			t.Errorf("post %d came %s after the previous, want %s", i, d, every)
		}
	}
}

func TestRun_Cancel(t *testing.T) {
	tests := []struct {
		name string
		// answer handles the first request, which cancels the run.
		answer func(w http.ResponseWriter, r *http.Request)
		rate   float64
	}{
		{"while a post is in flight", func(_ http.ResponseWriter, r *http.Request) {
			// The server notices a closed connection only once the body is read.
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, 0},
		{"while waiting out a Retry-After", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusServiceUnavailable)
		}, 0},
		{"while pacing", nil, 0.01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			srv := newFakeServer(t, func(w http.ResponseWriter, r *http.Request, n int) bool {
				if n == 0 {
					cancel()
				}
				if tt.answer != nil {
					tt.answer(w, r)
					return true
				}
				return false
			})
			cfg := testConfig()
			cfg.URL, cfg.Rate, cfg.Clients = srv.URL, tt.rate, 3
			before := runtime.NumGoroutine()

			start := time.Now()
			_, err := simulate.Run(ctx, cfg)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("error %v, want context.Canceled", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Run took %s to stop", d)
			}
			checkGoroutines(t, before)
		})
	}
}

// checkGoroutines waits briefly for the goroutine count to fall back to
// what it was before a run.
func checkGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Errorf("%d goroutines after the run, %d before", runtime.NumGoroutine(), before)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRun_Refused(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		wantErr  string // "" when the run goes on
		rejected bool
	}{
		{"bad token stops the run", 401, `{"error":"invalid token","rejected":[]}`, "401", false},
		{"too large stops the run", 413, `{"error":"request body too large","rejected":[]}`,
			"request body too large", false},
		{"server error stops the run", 500, `oops`, "500 Internal Server Error: oops", false},
		{"all rejected is counted", 400,
			`{"accepted":0,"duplicates":0,"rejected":[{"index":0,"field":"timestamp","reason":"future"}]}`,
			"", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) bool {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
				return true
			})
			cfg := testConfig()
			cfg.URL, cfg.Routers, cfg.Duration, cfg.Clients = srv.URL, 1, time.Hour, 1

			rep, err := simulate.Run(t.Context(), cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatal(err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
			case tt.wantErr != "" && rep.Requests != 1:
				t.Errorf("%d requests, want the run to stop after the first", rep.Requests)
			case tt.rejected && rep.Rejected != rep.Requests:
				t.Errorf("%d rejected in %d requests, want one each", rep.Rejected, rep.Requests)
			}
		})
	}
}

func TestRun_Config(t *testing.T) {
	tests := []struct {
		name    string
		change  func(c *simulate.Config)
		wantErr string
	}{
		{"no URL", func(c *simulate.Config) { c.URL = "" }, "url is required"},
		{"URL without scheme", func(c *simulate.Config) { c.URL = "127.0.0.1:8080" }, "want http://"},
		{"no token", func(c *simulate.Config) { c.Token = "" }, "token is required"},
		{"negative routers", func(c *simulate.Config) { c.Routers = -1 }, "routers is -1"},
		{"too many routers", func(c *simulate.Config) { c.Routers = 1_000_000 }, "at most 999999"},
		{"negative rate", func(c *simulate.Config) { c.Rate = -2 }, "rate is -2"},
		{"probability above 1", func(c *simulate.Config) { c.LateProb = 1.5 }, "late probability is 1.5"},
		{"probabilities above 1 in sum", func(c *simulate.Config) { c.RebootProb, c.DupProb = 0.6, 0.6 },
			"add up to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeServer(t, nil)
			cfg := testConfig()
			cfg.URL = srv.URL
			tt.change(&cfg)

			rep, err := simulate.Run(t.Context(), cfg)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one saying %q", err, tt.wantErr)
			}
			if rep.Requests != 0 {
				t.Errorf("%d requests with a bad config", rep.Requests)
			}
		})
	}
}
