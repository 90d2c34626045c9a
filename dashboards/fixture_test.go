package dashboards_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/ingest/reading"
	"github.com/routerlogger/routerlogger/ingest/writer"
	"github.com/routerlogger/routerlogger/internal/db"
	"github.com/routerlogger/routerlogger/internal/testkit"
)

// The fixture day, in UTC.
var (
	fixtureDayStart = time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)
	fixtureDayEnd   = fixtureDayStart.Add(24 * time.Hour)
)

// fixtureRouter is the serial that stands in for $router.
const fixtureRouter = "6000000001"

// grafanaRole is the login role the datasource connects as.
const grafanaRole = "routerlogger_grafana"

var fixtureFile = filepath.Join("..", "..", "shared", "fixtures", "router-telemetry-http.jsonl")

// opsFixtureFile holds sync runs, locks, captive-portal events, dead letters
// and guest sessions on the fixture day; the plugin's golden tests load it
// too.
var opsFixtureFile = filepath.Join("..", "grafana-plugin", "pkg", "plugin", "testdata",
	"ops-fixture.sql")

// loadFixtureDay creates a database, migrates it and replays the fixture
// day through the writer as if it arrived live: readings are grouped by the
// minute of their timestamp and each group is received just after it, so the
// ingest counters fall on the fixture day too. Every hour one malformed
// reading is rejected alongside, and the first hour is delivered twice, so
// that accepted, duplicate and rejected counts are all non-zero. The login
// role Grafana uses is created if the cluster lacks it. Then the operations
// rows of opsFixtureFile are written straight into their tables, so that
// the sync and guest Wi-Fi panels have data. It returns the database's DSN.
func loadFixtureDay(t *testing.T) string {
	t.Helper()

	dsn, pool := testkit.MigratedDSN(t)
	ctx := t.Context()

	w := writer.New(pool, writer.Config{})
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := w.Close(context.Background()); err != nil {
			t.Errorf("close writer: %v", err)
		}
	}()
	batches := fixtureBatches(t)
	for _, b := range batches[:12] {
		b.Rejects = nil // a second delivery of the first hour, readings only
		batches = append(batches, b)
	}
	for _, b := range batches {
		if _, err := w.Write(ctx, b); err != nil {
			t.Fatalf("write batch received %s: %v", b.Received, err)
		}
	}

	loadOpsFixture(t, pool)
	createGrafanaRole(t, pool)
	return dsn
}

// loadOpsFixture writes the rows of opsFixtureFile.
func loadOpsFixture(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()

	sql, err := os.ReadFile(opsFixtureFile)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(t.Context(), string(sql)); err != nil {
		t.Fatalf("%s: %v", opsFixtureFile, err)
	}
}

// fixtureBatches parses the fixture file into batches per reading minute.
func fixtureBatches(t *testing.T) []writer.Batch {
	t.Helper()

	f, err := os.Open(fixtureFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	var (
		p       reading.Parser
		out     []writer.Batch
		latest  time.Time
		lastHr  = -1
		line    = 0
		scanner = bufio.NewScanner(f)
	)
	for scanner.Scan() {
		line++
		r, ferr := p.Parse(bytes.Clone(scanner.Bytes()))
		if ferr != nil {
			t.Fatalf("fixture line %d: %v", line, ferr)
		}
		// A late reading arrives after the newest one, not at its own time.
		if at := r.Time.Truncate(time.Minute).Add(time.Minute); at.After(latest) {
			latest = at
		}
		if len(out) == 0 || !out[len(out)-1].Received.Equal(latest) {
			next := writer.Batch{Source: reading.SourceHTTP, Received: latest, Register: true}
			out = append(out, next)
		}
		b := &out[len(out)-1]
		b.Readings = append(b.Readings, r)
		if h := latest.Hour(); h != lastHr {
			lastHr = h
			b.Rejects = append(b.Rejects, writer.Reject{Index: len(b.Readings), Field: "timestamp",
				Reason: "not a time", Payload: []byte(`{"device_id":"X","timestamp":"soon"}`)})
		}
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// createGrafanaRole creates the datasource's login role, a member of the
// reader role. Roles are cluster-wide and other tests may create it at the
// same time, so an existing role is fine.
func createGrafanaRole(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()

	const q = `DO $$
BEGIN
    CREATE ROLE routerlogger_grafana LOGIN IN ROLE routerlogger_reader;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$`
	if _, err := pool.Exec(t.Context(), q); err != nil {
		t.Fatalf("create role %s: %v", grafanaRole, err)
	}
}

// TestFixtureDay_Load checks the loaded day the queries run against: the
// usage of the $router stand-in matches the fixture's expected totals and
// the ingest counters lie on the fixture day with every outcome present.
func TestFixtureDay_Load(t *testing.T) {
	pool, err := db.Open(t.Context(), loadFixtureDay(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	var tx, rx int64
	q := `SELECT sum(tx_bytes)::bigint, sum(rx_bytes)::bigint
	      FROM router_usage_daily WHERE serial = $1`
	if err := pool.QueryRow(t.Context(), q, fixtureRouter).Scan(&tx, &rx); err != nil {
		t.Fatal(err)
	}
	if tx != 97552653 || rx != 579282926 { // router-telemetry-expected.json
		t.Errorf("%s used tx %d rx %d, want 97552653 and 579282926", fixtureRouter, tx, rx)
	}

	var acc, dup, rej int64
	var first, last time.Time
	q = `SELECT sum(accepted)::bigint, sum(duplicates)::bigint, sum(rejected)::bigint,
	            min(minute), max(minute) FROM ingest_health`
	if err := pool.QueryRow(t.Context(), q).Scan(&acc, &dup, &rej, &first, &last); err != nil {
		t.Fatal(err)
	}
	if acc != 840 || dup == 0 || rej != 24 {
		t.Errorf("accepted %d duplicates %d rejected %d, want 840, some and 24", acc, dup, rej)
	}
	if first.Before(fixtureDayStart) || !last.Before(fixtureDayEnd.Add(time.Hour)) {
		t.Errorf("ingest minutes %s to %s, want the fixture day", first, last)
	}
}
