package plugin

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

func testQuery(refID, opts string, from time.Time) backend.DataQuery {
	return backend.DataQuery{
		RefID: refID, QueryType: "fleet_usage", JSON: []byte(opts), Interval: time.Hour, MaxDataPoints: 100,
		TimeRange: backend.TimeRange{From: from, To: from.Add(time.Hour)},
	}
}

func TestCacheKey(t *testing.T) {
	t0 := time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	base := testQuery("A", `{"refId": "A", "routers": ["1", "2"], "metric": "tx"}`, t0)
	key := func(q backend.DataQuery) string {
		t.Helper()
		k, err := cacheKey(q)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}

	same := []struct {
		name string
		q    backend.DataQuery
	}{
		{"other refId and key order", testQuery("B", `{"metric": "tx", "refId": "B", "routers": ["1", "2"]}`, t0)},
		{"datasource and hide", testQuery("A", `{"routers": ["1", "2"], "metric": "tx",
			"datasource": {"uid": "x"}, "hide": false, "intervalMs": 5}`, t0)},
	}
	for _, c := range same {
		t.Run("same/"+c.name, func(t *testing.T) {
			if key(c.q) != key(base) {
				t.Error("keys differ, want the same")
			}
		})
	}

	other := base
	other.QueryType = "router_usage"
	shifted := testQuery("A", string(base.JSON), t0.Add(time.Second))
	interval := base
	interval.Interval = time.Minute
	points := base
	points.MaxDataPoints = 10
	different := []struct {
		name string
		q    backend.DataQuery
	}{
		{"options", testQuery("A", `{"routers": ["2", "1"], "metric": "tx"}`, t0)},
		{"query type", other},
		{"time range", shifted},
		{"interval", interval},
		{"max data points", points},
	}
	for _, c := range different {
		t.Run("different/"+c.name, func(t *testing.T) {
			if key(c.q) == key(base) {
				t.Error("keys equal, want them to differ")
			}
		})
	}

	if _, err := cacheKey(testQuery("A", `{not json`, t0)); err == nil {
		t.Error("bad JSON: no error")
	}
}

func TestCache_Get(t *testing.T) {
	frames := data.Frames{data.NewFrame("x")}
	ctx := context.Background()

	t.Run("keeps answers for the ttl", func(t *testing.T) {
		c := newCache(time.Hour)
		var runs atomic.Int32
		run := func(context.Context) (data.Frames, error) { runs.Add(1); return frames, nil }
		for range 3 {
			if _, err := c.get(ctx, "k", run); err != nil {
				t.Fatal(err)
			}
		}
		if runs.Load() != 1 || c.hits.Load() != 2 {
			t.Errorf("%d runs, %d hits; want 1 and 2", runs.Load(), c.hits.Load())
		}
	})

	t.Run("zero ttl keeps nothing", func(t *testing.T) {
		c := newCache(0)
		var runs atomic.Int32
		run := func(context.Context) (data.Frames, error) { runs.Add(1); return frames, nil }
		for range 3 {
			_, _ = c.get(ctx, "k", run)
		}
		if runs.Load() != 3 {
			t.Errorf("%d runs, want 3", runs.Load())
		}
	})

	t.Run("errors are not kept", func(t *testing.T) {
		c := newCache(time.Hour)
		var runs atomic.Int32
		fail := errors.New("boom")
		run := func(context.Context) (data.Frames, error) { runs.Add(1); return nil, fail }
		for range 2 {
			if _, err := c.get(ctx, "k", run); !errors.Is(err, fail) {
				t.Fatalf("error %v, want boom", err)
			}
		}
		if runs.Load() != 2 {
			t.Errorf("%d runs, want 2", runs.Load())
		}
	})

	t.Run("identical queries in flight share one run", func(t *testing.T) {
		c := newCache(time.Hour)
		release := make(chan struct{})
		var runs, callers atomic.Int32
		run := func(context.Context) (data.Frames, error) {
			runs.Add(1)
			<-release
			return frames, nil
		}
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				callers.Add(1)
				_, _ = c.get(ctx, "k", run)
			})
		}
		for callers.Load() < 10 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond) // let them reach the flight
		close(release)
		wg.Wait()
		// A caller slower than the flight finds the kept answer instead.
		if runs.Load() != 1 || c.shared.Load() == 0 || c.shared.Load()+c.hits.Load() != 9 {
			t.Errorf("%d runs, %d shared, %d hits; want 1 run and 9 others sharing it",
				runs.Load(), c.shared.Load(), c.hits.Load())
		}
	})

	t.Run("a caller that gives up does not cancel the run", func(t *testing.T) {
		c := newCache(time.Hour)
		started, release := make(chan struct{}), make(chan struct{})
		var runErr atomic.Value
		run := func(ctx context.Context) (data.Frames, error) {
			close(started)
			<-release
			runErr.Store(ctx.Err() == nil)
			return frames, nil
		}
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan error)
		go func() { _, err := c.get(cctx, "k", run); done <- err }()
		<-started
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("caller: %v, want canceled", err)
		}
		close(release)
		if _, err := c.get(ctx, "k", run); err != nil { // served once the run is kept
			t.Fatal(err)
		}
		if ok, _ := runErr.Load().(bool); !ok {
			t.Error("the run's context was cancelled with its first caller")
		}
	})
}

func TestCache_Evict(t *testing.T) {
	c := newCache(time.Hour)
	for i := range maxCacheEntries + 10 {
		c.store(string(rune(i)), nil)
	}
	if n := len(c.entries); n > maxCacheEntries {
		t.Errorf("%d entries, want at most %d", n, maxCacheEntries)
	}
}
