package rms_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/oauth2"

	"github.com/routerlogger/routerlogger/internal/testkit"
	"github.com/routerlogger/routerlogger/sync/oauth"
	"github.com/routerlogger/routerlogger/sync/rms"
	"github.com/routerlogger/routerlogger/sync/rms/rmstest"
	"github.com/routerlogger/routerlogger/sync/syncrun"
)

func TestJob_FixturePages(t *testing.T) {
	s := newSetup(t, testkit.MigratedDB(t), nil)

	res := s.run(t)
	if res.Status != syncrun.StatusOK || res.Counts.Fetched != 3 || res.Counts.Changed != 3 {
		t.Fatalf("first run: %+v, want ok with 3 fetched and changed", res)
	}
	// Page 2 is short: no request for page 3.
	wantCount(t, s.fake, "devices offset=0", 1)
	wantCount(t, s.fake, "devices offset=2", 1)
	wantCount(t, s.fake, "devices offset=4", 0)
	for _, id := range []string{"1500001", "1500002", "1500003"} {
		wantCount(t, s.fake, "usage "+id, 1)
	}
	if n := count(t, s.pool, `SELECT count(*) FROM routers WHERE rms_id IS NOT NULL`); n != 3 {
		t.Errorf("%d routers with an RMS id, want 3", n)
	}

	// Nothing changed in RMS: every device is skipped, nothing rewritten.
	res = s.run(t)
	if res.Status != syncrun.StatusOK || res.Counts.Changed != 0 || res.Counts.Skipped != 3 {
		t.Errorf("second run: %+v, want ok with 3 skipped", res)
	}
}

func TestJob_Pagination(t *testing.T) {
	tests := []struct {
		name     string
		devices  int
		total    int // meta.total; -1: the fleet's size
		pageSize int
		pages    []string // offsets requested
	}{
		{"short last page", 250, -1, 100, []string{"0", "100", "200"}},
		{"exact multiple stops at total", 200, -1, 100, []string{"0", "100"}},
		{"empty page ends a fleet smaller than total", 4, 6, 2, []string{"0", "2", "4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, testkit.MigratedDB(t), func(o *rms.JobOptions) {
				o.PageSize, o.UsageDays = tt.pageSize, 0
			})
			s.fake.SetDevices(s.fake.Fleet(tt.devices))
			s.fake.SetTotal(tt.total)

			start := time.Now()
			res := s.run(t)
			if res.Status != syncrun.StatusOK || res.Counts.Fetched != tt.devices ||
				res.Counts.Changed != tt.devices {
				t.Fatalf("run: %+v, want ok with %d fetched and changed", res, tt.devices)
			}
			if n := s.fake.Requests(); n != len(tt.pages) {
				t.Errorf("%d requests, want %d: %v", n, len(tt.pages), s.fake.Counts())
			}
			for _, o := range tt.pages {
				wantCount(t, s.fake, "devices offset="+o, 1)
			}
			if n := count(t, s.pool, `SELECT count(*) FROM routers`); n != tt.devices {
				t.Errorf("%d routers, want %d", n, tt.devices)
			}
			t.Logf("%d devices upserted in %s with %d requests", tt.devices, time.Since(start),
				s.fake.Requests())
		})
	}
}

// TestJob_RateLimitedPageTwo: a 429 on page two stops the run at once
// (partial, page one kept, one request for page two), and the next run
// after the back-off resumes from page two.
func TestJob_RateLimitedPageTwo(t *testing.T) {
	s := newSetup(t, testkit.MigratedDB(t), nil)
	s.fake.SetHook(func(w http.ResponseWriter, _ *http.Request, key string, n int) bool {
		if key == "devices offset=2" && n == 1 {
			s.fake.WriteError(w, http.StatusTooManyRequests)
			return true
		}
		return false
	})

	first := s.run(t)
	if first.Status != syncrun.StatusPartial || first.Counts.Fetched != 2 ||
		!strings.Contains(first.Error, "429") || first.RetryAt.IsZero() {
		t.Fatalf("first run: %+v, want partial with page one and a retry time", first)
	}
	wantCount(t, s.fake, "devices offset=2", 1)
	if l := s.runLog(t, first.RunID); str(l.cursor) != "2" {
		t.Errorf("cursor %s, want 2", str(l.cursor))
	}
	if n := count(t, s.pool, `SELECT count(*) FROM routers WHERE rms_id IS NOT NULL`); n != 2 {
		t.Errorf("%d routers after the first run, want page one's 2", n)
	}

	time.Sleep(time.Until(first.RetryAt))
	second := s.run(t)
	if second.Status != syncrun.StatusOK || second.Counts.Fetched != 1 {
		t.Fatalf("second run: %+v, want ok with page two's device", second)
	}
	if l := s.runLog(t, second.RunID); str(l.resumedFrom) != "2" {
		t.Errorf("second run resumed from %s, want 2", str(l.resumedFrom))
	}
	wantCount(t, s.fake, "devices offset=0", 1)
	wantCount(t, s.fake, "devices offset=2", 2)
	if n := count(t, s.pool, `SELECT count(*) FROM routers WHERE rms_id IS NOT NULL`); n != 3 {
		t.Errorf("%d routers after the second run, want 3", n)
	}
}

// TestJob_RetryAfterHonoured: RMS sends no Retry-After, but one that
// appears sets the back-off.
func TestJob_RetryAfterHonoured(t *testing.T) {
	s := newSetup(t, testkit.MigratedDB(t), nil)
	s.fake.SetHook(func(w http.ResponseWriter, _ *http.Request, key string, _ int) bool {
		if key == "devices offset=0" {
			w.Header().Set("Retry-After", "600")
			s.fake.WriteError(w, http.StatusTooManyRequests)
			return true
		}
		return false
	})
	res := s.run(t)
	if res.Status != syncrun.StatusPartial || time.Until(res.RetryAt) < 9*time.Minute {
		t.Errorf("run: %+v, want partial retried after about 10 minutes", res)
	}
	wantCount(t, s.fake, "devices offset=0", 1)
}

func TestJob_Errors(t *testing.T) {
	tests := []struct {
		name    string
		key     string // requests answered with status
		status  int
		want    syncrun.Status
		message []string
		count   int // requests of key
	}{
		{"401 on devices", "devices offset=0", 401, syncrun.StatusFailed,
			[]string{"401", "UNAUTHORIZED", "Unauthorized."}, 1},
		{"403 on devices", "devices offset=0", 403, syncrun.StatusFailed,
			[]string{"403", "FORBIDDEN"}, 1},
		{"422 on devices", "devices offset=0", 422, syncrun.StatusFailed,
			[]string{"422", "VALIDATION_ERROR", "start_date"}, 1},
		{"403 on data usage", "usage 1500001", 403, syncrun.StatusPartial,
			[]string{"403", "FORBIDDEN", "company_device_statistics:read"}, 1},
		{"422 on data usage", "usage 1500001", 422, syncrun.StatusPartial,
			[]string{"device 1500001", "VALIDATION_ERROR"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, testkit.MigratedDB(t), nil)
			s.fake.SetHook(func(w http.ResponseWriter, _ *http.Request, key string, _ int) bool {
				if key == tt.key {
					s.fake.WriteError(w, tt.status)
					return true
				}
				return false
			})
			res := s.run(t)
			l := s.runLog(t, res.RunID)
			msg := res.Error + " " + strings.Join(l.errors, " ")
			if res.Status != tt.want {
				t.Errorf("status %s, want %s (%s)", res.Status, tt.want, msg)
			}
			for _, m := range tt.message {
				if !strings.Contains(msg, m) {
					t.Errorf("message %q lacks %q", msg, m)
				}
			}
			wantCount(t, s.fake, tt.key, tt.count)
			t.Logf("%s: %s", res.Status, msg)
		})
	}
}

// TestJob_UsageForbiddenOnce: the missing scope is one error, and data
// usage is not asked for again in the run.
func TestJob_UsageForbiddenOnce(t *testing.T) {
	s := newSetup(t, testkit.MigratedDB(t), nil)
	s.fake.SetHook(func(w http.ResponseWriter, _ *http.Request, key string, _ int) bool {
		if strings.HasPrefix(key, "usage ") {
			s.fake.WriteError(w, http.StatusForbidden)
			return true
		}
		return false
	})
	res := s.run(t)
	if res.Status != syncrun.StatusPartial || res.Counts.Failed != 1 || res.Counts.Changed != 3 {
		t.Errorf("run: %+v, want partial, 3 devices changed, one error", res)
	}
	usage := 0
	for k, n := range s.fake.Counts() {
		if strings.HasPrefix(k, "usage ") {
			usage += n
		}
	}
	if usage != 1 {
		t.Errorf("%d data-usage requests, want 1", usage)
	}
	if res.RetryAt != (time.Time{}) {
		t.Errorf("a missing scope backs off until %s; want the next tick", res.RetryAt)
	}
}

type failingTokens struct{ err error }

func (f failingTokens) Token() (*oauth2.Token, error) { return nil, f.err }

// TestJob_TokenNeedsReauth: a token source that needs re-authorisation
// fails the run with a clear message, before any request.
func TestJob_TokenNeedsReauth(t *testing.T) {
	reauth := fmt.Errorf("rms: since 2025-03-14T09:00:00Z: invalid_grant: %w", oauth.ErrNeedsReauth)
	s := newSetup(t, testkit.MigratedDB(t), func(o *rms.JobOptions) {
		o.Client.Tokens = failingTokens{reauth}
	})
	res := s.run(t)
	if res.Status != syncrun.StatusFailed || !strings.Contains(res.Error, "re-authoris") {
		t.Errorf("run: %+v, want failed naming re-authorisation", res)
	}
	if n := s.fake.Requests(); n != 0 {
		t.Errorf("%d requests without a token", n)
	}
	err := &rms.TokenError{Err: reauth}
	if !rms.NeedsReauthorization(err) || !rms.IsAuth(err) || rms.IsTransient(err) {
		t.Errorf("token error checks: reauth %v auth %v transient %v", rms.NeedsReauthorization(err),
			rms.IsAuth(err), rms.IsTransient(err))
	}
}

func TestJob_DroppedConnection(t *testing.T) {
	t.Run("once: retried, run ok", func(t *testing.T) {
		s := newSetup(t, testkit.MigratedDB(t), nil)
		s.fake.SetHook(func(w http.ResponseWriter, _ *http.Request, key string, n int) bool {
			if key == "devices offset=2" && n == 1 {
				rmstest.Drop(w)
				return true
			}
			return false
		})
		res := s.run(t)
		if res.Status != syncrun.StatusOK || res.Counts.Fetched != 3 {
			t.Errorf("run: %+v, want ok", res)
		}
		wantCount(t, s.fake, "devices offset=2", 2)
	})

	t.Run("timeout and 503 once: retried, run ok", func(t *testing.T) {
		s := newSetup(t, testkit.MigratedDB(t), func(o *rms.JobOptions) {
			o.Client.HTTP = &http.Client{Timeout: time.Second}
		})
		s.fake.SetHook(func(w http.ResponseWriter, r *http.Request, key string, n int) bool {
			switch {
			case key == "devices offset=0" && n == 1:
				select { // longer than the client's timeout
				case <-r.Context().Done():
				case <-time.After(5 * time.Second):
				}
				return true
			case key == "devices offset=2" && n == 1:
				s.fake.WriteError(w, http.StatusServiceUnavailable)
				return true
			}
			return false
		})
		res := s.run(t)
		if res.Status != syncrun.StatusOK || res.Counts.Fetched != 3 {
			t.Errorf("run: %+v, want ok", res)
		}
		wantCount(t, s.fake, "devices offset=0", 2)
		wantCount(t, s.fake, "devices offset=2", 2)
	})

	t.Run("always: attempts used, run failed with cursor", func(t *testing.T) {
		s := newSetup(t, testkit.MigratedDB(t), nil)
		s.fake.SetHook(func(w http.ResponseWriter, _ *http.Request, key string, _ int) bool {
			if key == "devices offset=2" {
				rmstest.Drop(w)
				return true
			}
			return false
		})
		res := s.run(t)
		if res.Status != syncrun.StatusFailed || !strings.Contains(res.Error, "after 3 attempts") {
			t.Errorf("run: %+v, want failed after 3 attempts", res)
		}
		wantCount(t, s.fake, "devices offset=2", 3)
		if l := s.runLog(t, res.RunID); str(l.cursor) != "2" {
			t.Errorf("cursor %s, want 2", str(l.cursor))
		}
	})

	t.Run("always: retry time used", func(t *testing.T) {
		s := newSetup(t, testkit.MigratedDB(t), func(o *rms.JobOptions) {
			o.Client.Attempts, o.Client.RetryWait, o.Client.RetryTime = 100, 20*time.Millisecond,
				150*time.Millisecond
		})
		s.fake.SetHook(func(w http.ResponseWriter, _ *http.Request, key string, _ int) bool {
			if key == "devices offset=0" {
				w.WriteHeader(http.StatusBadGateway)
				return true
			}
			return false
		})
		res := s.run(t)
		n := s.fake.Count("devices offset=0")
		if res.Status != syncrun.StatusFailed || !strings.Contains(res.Error, "retry budget") ||
			n < 2 || n > 10 {
			t.Errorf("run: %+v after %d requests, want failed on the retry budget", res, n)
		}
	})
}

func TestJob_Quota(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := newSetup(t, testkit.MigratedDB(t), func(o *rms.JobOptions) {
		o.MonthlyQuota, o.Registerer = 3, reg
	})

	// Page one, then data usage of its two devices: 3 requests; page two
	// is refused.
	res := s.run(t)
	if res.Status != syncrun.StatusPartial || res.RetryAt.IsZero() {
		t.Errorf("run: %+v, want partial on the quota", res)
	}
	if !strings.Contains(res.Error, "monthly quota of 3 requests used") {
		t.Errorf("reason %q", res.Error)
	}
	if n := s.fake.Requests(); n != 3 {
		t.Errorf("%d requests made, want 3", n)
	}

	var requests, quota int64
	var ratio float64
	if err := s.pool.QueryRow(context.Background(), `SELECT requests, quota, used_ratio FROM rms_quota
		WHERE month = date_trunc('month', now() AT TIME ZONE 'UTC')`).Scan(&requests, &quota,
		&ratio); err != nil {
		t.Fatal(err)
	}
	if requests != 3 || quota != 3 || ratio != 1 {
		t.Errorf("rms_quota: %d of %d (%.2f), want 3 of 3 (1.00)", requests, quota, ratio)
	}
	const want = "\n# HELP routerlogger_rms_quota_used_requests RMS requests counted this month (UTC)" +
		" by all instances, at this one's last request.\n" +
		"# TYPE routerlogger_rms_quota_used_requests gauge\n" +
		"routerlogger_rms_quota_used_requests 3\n"
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"routerlogger_rms_quota_used_requests"); err != nil {
		t.Error(err)
	}
}

// TestQuotaMeter_Concurrent: instances racing for the last requests of
// the quota get exactly the quota between them.
func TestQuotaMeter_Concurrent(t *testing.T) {
	pool := testkit.MigratedDB(t)
	var granted atomic.Int32
	var wg sync.WaitGroup
	for range 4 {
		m, err := rms.NewQuotaMeter(pool, 25, nil)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				err := m.Take(context.Background())
				switch {
				case err == nil:
					granted.Add(1)
				case !rms.IsQuota(err):
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if g := granted.Load(); g != 25 {
		t.Errorf("%d requests granted by a quota of 25", g)
	}
	t.Logf("80 requests from 4 meters, %d granted", granted.Load())
}
