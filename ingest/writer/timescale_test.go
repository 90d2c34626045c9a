package writer_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/ingest/writer"
	"github.com/routerlogger/routerlogger/internal/db"
	"github.com/routerlogger/routerlogger/internal/pgtest"
)

type rollupRow struct {
	serial    string
	bucket    time.Time
	tx, rx, n int64
}

func rollupRows(t *testing.T, pool *pgxpool.Pool, view string) []rollupRow {
	t.Helper()
	rows, err := pool.Query(context.Background(),
		"SELECT serial, bucket, tx_bytes, rx_bytes, samples FROM "+view+" ORDER BY serial, bucket")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []rollupRow
	for rows.Next() {
		var r rollupRow
		if err := rows.Scan(&r.serial, &r.bucket, &r.tx, &r.rx, &r.n); err != nil {
			t.Fatal(err)
		}
		r.bucket = r.bucket.UTC()
		out = append(out, r)
	}
	return out
}

// TestWriter_TimescaleMatchesPlain loads the fixture day, in arrival order
// and one reading per batch, into a plain database and a TimescaleDB one
// and compares every hourly and daily row, before the continuous
// aggregates are refreshed (real-time aggregation) and after.
func TestWriter_TimescaleMatchesPlain(t *testing.T) {
	cluster := pgtest.StartTimescale(t)
	ctx := context.Background()

	tsPool, err := db.Open(ctx, cluster.DSN, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer tsPool.Close()
	mode, err := db.Migrate(ctx, tsPool, slog.Default(), db.TimescaleOn)
	if err != nil {
		t.Fatal(err)
	}
	if mode != db.ModeTimescale {
		t.Fatalf("mode %q, want timescale", mode)
	}
	plainPool := openDB(t)

	rs := fixtureReadings(t)
	for _, pool := range []*pgxpool.Pool{plainPool, tsPool} {
		w := startWriter(t, pool, writer.Config{})
		for _, r := range rs {
			write(t, w, r)
		}
	}

	check := func(stage string) {
		checkFleetHourly(t, tsPool)
		checkFleetHourly(t, plainPool)
		for _, view := range []string{"router_usage_hourly", "router_usage_daily"} {
			plain, ts := rollupRows(t, plainPool, view), rollupRows(t, tsPool, view)
			if len(plain) == 0 || len(plain) != len(ts) {
				t.Fatalf("%s %s: %d plain rows, %d timescale rows", stage, view, len(plain), len(ts))
			}
			for i := range plain {
				if plain[i] != ts[i] {
					t.Errorf("%s %s row %d: plain %+v, timescale %+v", stage, view, i, plain[i], ts[i])
				}
			}
		}
	}
	check("real-time")

	var caggs, hypertables int
	const q = `SELECT (SELECT count(*) FROM timescaledb_information.continuous_aggregates),
		(SELECT count(*) FROM timescaledb_information.hypertables WHERE hypertable_name = 'samples')`
	if err := tsPool.QueryRow(ctx, q).Scan(&caggs, &hypertables); err != nil {
		t.Fatal(err)
	}
	if caggs != 3 || hypertables != 1 {
		t.Fatalf("%d continuous aggregates and %d samples hypertable, want 3 and 1", caggs, hypertables)
	}

	refresh := func() {
		for _, cagg := range []string{"usage_hourly", "usage_daily", "fleet_usage_hourly_parts"} {
			q := "CALL refresh_continuous_aggregate($1::regclass, NULL, NULL)"
			if _, err := tsPool.Exec(ctx, q, cagg); err != nil {
				t.Fatal(err)
			}
		}
	}
	refresh()
	check("refreshed")

	// A late reading into materialized buckets revises its successor; the
	// aggregates follow at their next refresh.
	late := rs[0]
	for _, r := range rs {
		if r.DeviceID == "6000000001" && r.Time.Hour() == 12 && r.Time.Minute() == 5 {
			late = r
		}
	}
	late.Time = late.Time.Add(-150 * time.Second)
	*late.TxBytes -= 1000
	*late.RxBytes -= 5000
	for _, pool := range []*pgxpool.Pool{plainPool, tsPool} {
		w := startWriter(t, pool, writer.Config{})
		if res := write(t, w, late); res.Accepted != 1 {
			t.Fatalf("late reading: %+v", res)
		}
	}
	refresh()
	check("after a late reading")

	if got, want := dailyTotals(t, tsPool, "router_usage_daily"), expectedTotals(t); !equalTotals(got, want) {
		t.Errorf("timescale totals %v, want %v", got, want)
	}
	t.Logf("TimescaleDB path checked on a private cluster at %s", cluster.DSN)
}
