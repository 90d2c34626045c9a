package writer_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/writer"
	"github.com/routerlogger/routerlogger/ingest/writer/writertest"
	"github.com/routerlogger/routerlogger/internal/testkit"
)

var fixtures = filepath.Join("..", "..", "..", "shared", "fixtures")

// openDB returns a pool on a fresh migrated database.
func openDB(t testing.TB) *pgxpool.Pool { return testkit.MigratedDB(t) }

func startWriter(t testing.TB, pool *pgxpool.Pool, cfg writer.Config) *writer.Writer {
	return writertest.Start(t, pool, cfg)
}

type fixtureLine struct {
	DeviceID  string    `json:"device_id"`
	Name      string    `json:"name"`
	Model     string    `json:"model"`
	Timestamp time.Time `json:"timestamp"`
	Uptime    *int64    `json:"uptime"`
	Counters  struct {
		Tx *int64 `json:"total_tx_bytes"`
		Rx *int64 `json:"total_rx_bytes"`
	} `json:"counters"`
}

// fixtureReadings returns the fixture day in arrival order. Its lines are
// well-formed, so plain decoding stands in for the tolerant parser here.
func fixtureReadings(t testing.TB) []reading.Reading {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtures, "router-telemetry-http.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []reading.Reading
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l fixtureLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		out = append(out, reading.Reading{
			DeviceID: l.DeviceID, Name: l.Name, Model: l.Model, Time: l.Timestamp.UTC(),
			Uptime: l.Uptime, TxBytes: l.Counters.Tx, RxBytes: l.Counters.Rx,
		})
	}
	return out
}

type totals map[string][2]int64

func expectedTotals(t testing.TB) totals { return testkit.ExpectedUsage(t) }

// dailyTotals reads usage per router through the analyst view.
func dailyTotals(t testing.TB, pool *pgxpool.Pool, view string) totals {
	t.Helper()
	rows, err := pool.Query(context.Background(),
		"SELECT serial, sum(tx_bytes)::bigint, sum(rx_bytes)::bigint FROM "+view+" GROUP BY serial")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := totals{}
	for rows.Next() {
		var s string
		var tx, rx int64
		if err := rows.Scan(&s, &tx, &rx); err != nil {
			t.Fatal(err)
		}
		out[s] = [2]int64{tx, rx}
	}
	return out
}

func equalTotals(a, b totals) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func write(t testing.TB, w *writer.Writer, rs ...reading.Reading) writer.Result {
	t.Helper()
	res, err := w.Write(context.Background(), writer.Batch{Source: reading.SourceHTTP, Readings: rs, Register: true})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestWriter_FixtureDayOneByOne(t *testing.T) {
	pool := openDB(t)
	w := startWriter(t, pool, writer.Config{})
	rs := fixtureReadings(t)
	want := expectedTotals(t)

	accepted := 0
	for _, r := range rs {
		accepted += write(t, w, r).Accepted
	}
	if accepted != len(rs) {
		t.Fatalf("accepted %d of %d", accepted, len(rs))
	}
	for _, view := range []string{"router_usage_daily", "router_usage_hourly"} {
		if got := dailyTotals(t, pool, view); !equalTotals(got, want) {
			t.Errorf("%s: got %v, want %v", view, got, want)
		}
	}
	checkFleetHourly(t, pool)

	// Events: the reboot, the gap, the late sample and the glitch.
	wantEvents := map[string]string{
		"6000000001 2025-03-14T10:05:00Z": "reboot",
		"6000000002 2025-03-14T15:00:05Z": "gap",
		"6000000003 2025-03-14T16:35:06Z": "late",
		"6000000003 2025-03-14T19:20:05Z": "glitch",
	}
	rows, err := pool.Query(context.Background(),
		"SELECT serial, time, array_to_string(events, ',') FROM router_events ORDER BY serial, time")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for rows.Next() {
		var s, ev string
		var at time.Time
		if err := rows.Scan(&s, &at, &ev); err != nil {
			t.Fatal(err)
		}
		got[s+" "+at.UTC().Format(time.RFC3339)] = ev
	}
	rows.Close()
	if len(got) != len(wantEvents) {
		t.Errorf("events %v, want %v", got, wantEvents)
	}
	for k, v := range wantEvents {
		if got[k] != v {
			t.Errorf("event at %s: %q, want %q", k, got[k], v)
		}
	}

	// A second delivery of everything changes nothing.
	dups := 0
	for _, r := range rs {
		dups += write(t, w, r).Duplicates
	}
	if dups != len(rs) {
		t.Errorf("second delivery: %d duplicates, want %d", dups, len(rs))
	}
	if got := dailyTotals(t, pool, "router_usage_daily"); !equalTotals(got, want) {
		t.Errorf("after redelivery: got %v, want %v", got, want)
	}
}

func TestWriter_FixtureDayOneBatch(t *testing.T) {
	pool := openDB(t)
	w := startWriter(t, pool, writer.Config{})
	rs := fixtureReadings(t)

	res := write(t, w, rs...)
	if res.Accepted != len(rs) {
		t.Fatalf("accepted %d of %d", res.Accepted, len(rs))
	}
	want := expectedTotals(t)
	if got := dailyTotals(t, pool, "router_usage_daily"); !equalTotals(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	var sumTx, sumRx int64
	for _, v := range want {
		sumTx, sumRx = sumTx+v[0], sumRx+v[1]
	}
	if res.TxAdded != sumTx || res.RxAdded != sumRx {
		t.Errorf("result added tx %d rx %d, want %d %d", res.TxAdded, res.RxAdded, sumTx, sumRx)
	}
}

// checkFleetHourly compares the fleet rollup with the per-router one,
// bucket by bucket.
func checkFleetHourly(t testing.TB, pool *pgxpool.Pool) {
	t.Helper()
	const q = `SELECT count(*) FROM (
			SELECT bucket, sum(tx_bytes)::bigint AS tx, sum(rx_bytes)::bigint AS rx, sum(samples)::bigint AS n
			FROM router_usage_hourly GROUP BY bucket) r
		FULL JOIN fleet_usage_hourly f USING (bucket)
		WHERE r.tx IS DISTINCT FROM f.tx_bytes OR r.rx IS DISTINCT FROM f.rx_bytes OR r.n IS DISTINCT FROM f.samples`
	var bad int
	if err := pool.QueryRow(context.Background(), q).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Errorf("%d hours where fleet_usage_hourly differs from the sum of router_usage_hourly", bad)
	}
}

// TestWriter_StatusKeepsKnownValues posts a reading without counters or
// signal after a full one: router_latest keeps the last known values.
func TestWriter_StatusKeepsKnownValues(t *testing.T) {
	pool := openDB(t)
	w := startWriter(t, pool, writer.Config{})
	rs := fixtureReadings(t)
	full := rs[0]
	rsrp := -91.0
	full.RSRP = &rsrp
	bare := reading.Reading{DeviceID: full.DeviceID, Time: full.Time.Add(time.Minute), Operator: "EE"}
	write(t, w, full)
	write(t, w, bare)

	var tx *int64
	var gotRSRP *float64
	var op string
	var seen time.Time
	err := pool.QueryRow(context.Background(),
		"SELECT tx_counter, rsrp, operator, last_seen FROM router_latest WHERE serial = $1", full.DeviceID).
		Scan(&tx, &gotRSRP, &op, &seen)
	if err != nil {
		t.Fatal(err)
	}
	if tx == nil || *tx != *full.TxBytes || gotRSRP == nil || *gotRSRP != rsrp || op != "EE" || !seen.Equal(bare.Time) {
		t.Errorf("router_latest tx %v rsrp %v operator %q last_seen %s", show(tx), gotRSRP, op, seen)
	}
}
