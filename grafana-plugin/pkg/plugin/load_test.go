package plugin_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/routerlogger/routerlogger/grafana-plugin/pkg/plugin"
)

// fleetOverview are the queries of the Fleet overview dashboard.
var fleetOverview = []struct{ queryType, opts string }{
	{"router_status", `{"routers": ["$__all"]}`},
	{"fleet_usage", `{}`},
	{"top_routers", `{"limit": 10, "metric": "total"}`},
	{"alert_router_offline", `{}`},
	{"alert_fleet_silent", `{}`},
	{"alert_reject_rate", `{"windowMinutes": 15}`},
	{"alert_slow_queries", `{"thresholdSeconds": 5}`},
}

// TestDatasource_LoadFleetOverview fires Fleet overview requests at once:
// 1000 (200 with -short) over a handful of time ranges through the cache,
// and 200 distinct ones with the cache off. None may fail, the pool must
// stay within maxOpenConns, and each distinct query must reach the
// database exactly once: the rest come from the cache or share a run.
func TestDatasource_LoadFleetOverview(t *testing.T) {
	requests := 1000
	if testing.Short() {
		requests = 200
	}
	dsn := fixtureDB(t)
	cases := []struct {
		name               string
		requests, ranges   int
		cacheTTL, maxConns int
	}{
		{"cached", requests, 25, 300, 4},
		{"uncached", 200, 200, 0, 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			user, password := loginRole(t, dsn, true)
			ds := openDatasource(t, instanceSettings(t, dsn, user, password,
				map[string]any{"maxOpenConns": c.maxConns, "cacheTTLSeconds": c.cacheTTL}))
			loadOverview(t, ds, dsn, user, c.requests, c.ranges, int32(c.maxConns))
		})
	}
}

// loadOverview runs the load of TestDatasource_LoadFleetOverview.
func loadOverview(t *testing.T, ds *plugin.Datasource, dsn, user string, requests, ranges int, maxConns int32) {
	mon := startMonitor(t, dsn, user, func() int32 { return ds.Stats().PoolConns })
	latencies := make([]time.Duration, requests)
	var failed atomic.Int64
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range requests {
		wg.Go(func() {
			req := overviewRequest(i % ranges)
			<-start
			t0 := time.Now()
			resp, err := ds.QueryData(context.Background(), req)
			latencies[i] = time.Since(t0)
			if err != nil || len(resp.Responses) != len(fleetOverview) {
				failed.Add(1)
				return
			}
			for ref, r := range resp.Responses {
				if r.Error != nil || len(r.Frames) == 0 {
					failed.Add(1)
					t.Errorf("request %d query %s: %v", i, ref, r.Error)
				}
			}
		})
	}
	t0 := time.Now()
	close(start)
	wg.Wait()
	elapsed := time.Since(t0)
	maxPool, maxSessions := mon.stop()

	slices.Sort(latencies)
	st := ds.Stats()
	t.Logf("%d requests x %d queries in %s: p50 %s, p99 %s, max %s; errors %d; db queries %d, "+
		"cache hits %d, shared %d; pool max %d, sessions max %d (limit %d)",
		requests, len(fleetOverview), elapsed.Round(time.Millisecond), latencies[requests/2],
		latencies[requests*99/100], latencies[requests-1], failed.Load(), st.DBQueries, st.CacheHits,
		st.Shared, maxPool, maxSessions, maxConns)

	if failed.Load() != 0 {
		t.Errorf("%d failed queries, want 0", failed.Load())
	}
	if maxPool > maxConns || maxSessions > maxConns || st.PoolMaxConns != maxConns {
		t.Errorf("pool reached %d connections and %d sessions (limit %d, pool says %d)",
			maxPool, maxSessions, maxConns, st.PoolMaxConns)
	}
	distinct := int64(ranges * len(fleetOverview))
	if st.DBQueries != distinct {
		t.Errorf("%d queries reached the database, want one per distinct query, %d", st.DBQueries, distinct)
	}
	if total := int64(requests * len(fleetOverview)); st.DBQueries+st.CacheHits+st.Shared != total {
		t.Errorf("db %d + cache %d + shared %d != %d queries", st.DBQueries, st.CacheHits, st.Shared, total)
	}
}

// overviewRequest is the Fleet overview over the fixture day shifted by
// k minutes, so that k picks one of several distinct sets of queries.
func overviewRequest(k int) *backend.QueryDataRequest {
	req := &backend.QueryDataRequest{PluginContext: backend.PluginContext{PluginID: "routerlogger-fleet-datasource"}}
	for j, q := range fleetOverview {
		dq := dataQuery(string(rune('A'+j)), q.queryType, q.opts, time.Hour)
		shift := time.Duration(k) * time.Minute
		dq.TimeRange.From, dq.TimeRange.To = dq.TimeRange.From.Add(shift), dq.TimeRange.To.Add(shift)
		req.Queries = append(req.Queries, dq)
	}
	return req
}

// monitor samples the pool's size and the plugin user's sessions in
// pg_stat_activity while a test runs.
type monitor struct {
	done     chan struct{}
	wg       sync.WaitGroup
	pool     atomic.Int32
	sessions atomic.Int32
}

func startMonitor(t testing.TB, dsn, user string, poolSize func() int32) *monitor {
	t.Helper()
	conn := adminConn(t, dsn)
	m := &monitor{done: make(chan struct{})}
	m.wg.Go(func() {
		for {
			select {
			case <-m.done:
				return
			case <-time.After(time.Millisecond):
			}
			if n := poolSize(); n > m.pool.Load() {
				m.pool.Store(n)
			}
		}
	})
	m.wg.Go(func() {
		const q = "SELECT count(*) FROM pg_stat_activity WHERE usename = $1"
		for {
			select {
			case <-m.done:
				return
			case <-time.After(5 * time.Millisecond):
			}
			var n int32
			if err := conn.QueryRow(context.Background(), q, user).Scan(&n); err == nil && n > m.sessions.Load() {
				m.sessions.Store(n)
			}
		}
	})
	return m
}

// stop ends the sampling and returns the largest pool and session counts.
func (m *monitor) stop() (pool, sessions int32) {
	close(m.done)
	m.wg.Wait()
	return m.pool.Load(), m.sessions.Load()
}
