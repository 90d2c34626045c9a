package plugin_test

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/internal/db"
	"github.com/routerlogger/routerlogger/internal/pgtest"
)

// The benchmark's fleet: routers × days, one raw sample per router every
// sampleEvery, with the hourly and daily rollups the writer would keep.
const (
	benchRouters = 1000
	benchDays    = 30
	sampleEvery  = 15 * time.Minute
)

var benchStart = time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)

// benchFleetSQL fills a migrated plain database directly, not through the
// writer, for speed. Deltas vary by router and time; the rollups are the
// sums of the samples' deltas, as the writer keeps them.
var benchFleetSQL = []string{
	`INSERT INTO routers (serial, name, model, first_seen, last_seen)
	 SELECT 'BENCH-' || lpad(g::text, 4, '0'), 'bench-' || g, 'RUT241', $1, $2
	 FROM generate_series(1, $3::int) g`,
	`INSERT INTO samples (router_id, time, tx_counter, rx_counter, tx_delta, rx_delta, uptime_s,
	     rsrp, rsrq, sinr, rssi, source, received_at)
	 SELECT r.id, t, 0, 0,
	     1000 + (r.id * 7919 + extract(epoch FROM t)::bigint / 900) % 100000,
	     5000 + (r.id * 104729 + extract(epoch FROM t)::bigint / 900) % 500000,
	     extract(epoch FROM t - $1)::bigint, -90, -10, 10, -70, 'import', t
	 FROM routers r, generate_series($1::timestamptz, $2::timestamptz - $3::interval, $3::interval) t`,
	`INSERT INTO usage_hourly (router_id, bucket, tx_bytes, rx_bytes, samples)
	 SELECT router_id, date_trunc('hour', time), sum(tx_delta), sum(rx_delta), count(*)
	 FROM samples GROUP BY 1, 2`,
	`INSERT INTO usage_daily (router_id, bucket, tx_bytes, rx_bytes, samples)
	 SELECT router_id, date_bin('1 day', bucket, '2000-01-01'), sum(tx_bytes), sum(rx_bytes), sum(samples)
	 FROM usage_hourly GROUP BY 1, 2`,
	`INSERT INTO fleet_usage_hourly_parts (bucket, shard, tx_bytes, rx_bytes, samples)
	 SELECT bucket, 0, sum(tx_bytes), sum(rx_bytes), sum(samples) FROM usage_hourly GROUP BY 1`,
	`ANALYZE`,
}

// rawFleetSQL is fleet usage per hour computed from the raw samples.
const rawFleetSQL = `SELECT date_bin('1 hour', time, '2000-01-01'), sum(tx_delta)::bigint,
	sum(rx_delta)::bigint, sum(tx_delta + rx_delta)::bigint
FROM samples WHERE time >= $1 AND time < $2 GROUP BY 1 ORDER BY 1`

// BenchmarkFleetUsage30Days times the fleet_usage query over 30 days of
// 1000 routers, from the hourly and the daily rollups through the
// plugin, against the same sums from the raw samples, and reports the
// ratios. The loop times the hourly query. Run it with
//
//	go test -run '^$' -bench FleetUsage30Days ./grafana-plugin/pkg/plugin
func BenchmarkFleetUsage30Days(b *testing.B) {
	dsn := pgtest.NewDatabase(b)
	pool := benchFleet(b, dsn)
	ds := newDatasource(b, dsn, map[string]any{"cacheTTLSeconds": 0, "queryTimeoutSeconds": 300,
		"maxRows": 100000})
	tr := backend.TimeRange{From: benchStart, To: benchStart.Add(benchDays * 24 * time.Hour)}
	query := func(interval time.Duration) backend.DataQuery {
		q := dataQuery("A", "fleet_usage", `{}`, interval)
		q.TimeRange, q.MaxDataPoints = tr, 10000
		return q
	}

	var hourlyTotal, rawTotal int64
	hourly := timeIt(func() {
		hourlyTotal = sumField(b, mustFrames(b, ds, query(time.Hour)), "total_bytes")[""]
	})
	daily := timeIt(func() { mustFrames(b, ds, query(24*time.Hour)) })
	raw := timeIt(func() { rawTotal = rawFleetTotal(b, pool, tr) })
	if hourlyTotal != rawTotal || rawTotal == 0 {
		b.Fatalf("hourly rollups total %d, raw samples %d", hourlyTotal, rawTotal)
	}

	b.Logf("fleet usage over %d days of %d routers (%d raw samples): hourly rollups %s, daily rollups %s, "+
		"raw samples %s; raw/hourly %.1fx, raw/daily %.1fx", benchDays, benchRouters,
		benchRouters*benchDays*int(24*time.Hour/sampleEvery), hourly, daily, raw,
		float64(raw)/float64(hourly), float64(raw)/float64(daily))
	for b.Loop() {
		mustFrames(b, ds, query(time.Hour))
	}
	// After the loop: its start drops metrics reported before it.
	b.ReportMetric(float64(hourly.Microseconds())/1000, "hourly-ms")
	b.ReportMetric(float64(daily.Microseconds())/1000, "daily-ms")
	b.ReportMetric(float64(raw.Microseconds())/1000, "raw-ms")
	b.ReportMetric(float64(raw)/float64(daily), "raw/daily")
	b.ReportMetric(float64(raw)/float64(hourly), "raw/hourly")

}

// benchFleet migrates the database and fills it; it returns an admin pool.
func benchFleet(b *testing.B, dsn string) *pgxpool.Pool {
	b.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	if _, err := db.Migrate(ctx, pool, slog.New(slog.DiscardHandler), db.TimescaleOff); err != nil {
		b.Fatal(err)
	}

	t0 := time.Now()
	end := benchStart.Add(benchDays * 24 * time.Hour)
	every := fmt.Sprintf("%d seconds", int(sampleEvery.Seconds()))
	args := [][]any{{benchStart, end, benchRouters}, {benchStart, end, every}, nil, nil, nil, nil}
	for i, sql := range benchFleetSQL {
		if _, err := pool.Exec(ctx, sql, args[i]...); err != nil {
			b.Fatalf("fill step %d: %v", i+1, err)
		}
	}
	b.Logf("filled %d routers x %d days in %s", benchRouters, benchDays, time.Since(t0).Round(time.Second))
	return pool
}

// rawFleetTotal runs rawFleetSQL as the admin and sums its totals.
func rawFleetTotal(b *testing.B, pool *pgxpool.Pool, tr backend.TimeRange) int64 {
	b.Helper()
	rows, err := pool.Query(context.Background(), rawFleetSQL, tr.From, tr.To)
	if err != nil {
		b.Fatal(err)
	}
	var total int64
	for rows.Next() {
		var t time.Time
		var tx, rx, sum int64
		if err := rows.Scan(&t, &tx, &rx, &sum); err != nil {
			b.Fatal(err)
		}
		total += sum
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return total
}

// timeIt runs f once to warm up, then five times, and returns the median.
func timeIt(f func()) time.Duration {
	f()
	runs := make([]time.Duration, 5)
	for i := range runs {
		t0 := time.Now()
		f()
		runs[i] = time.Since(t0)
	}
	slices.Sort(runs)
	return runs[len(runs)/2]
}
