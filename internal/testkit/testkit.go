// Package testkit is shared test plumbing: the fixture files of
// ../shared/fixtures and a freshly migrated database. Only tests import it.
package testkit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/routerlogger/routerlogger/internal/db"
	"github.com/routerlogger/routerlogger/internal/pgtest"
)

// FixturesDir returns the shared fixtures folder, ../shared/fixtures next
// to the repository, found from the test's working directory.
func FixturesDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "fixtures")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("testkit: no go.mod above the working directory")
		}
		dir = parent
	}
}

// TelemetryLines returns the lines of router-telemetry-http.jsonl in file
// (arrival) order.
func TelemetryLines(tb testing.TB) [][]byte {
	tb.Helper()
	f, err := os.Open(filepath.Join(FixturesDir(tb), "router-telemetry-http.jsonl"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// ExpectedUsage returns the tx and rx bytes per serial of
// router-telemetry-expected.json.
func ExpectedUsage(tb testing.TB) map[string][2]int64 {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(FixturesDir(tb), "router-telemetry-expected.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var exp struct {
		Routers map[string]struct {
			Tx int64 `json:"tx_bytes_used"`
			Rx int64 `json:"rx_bytes_used"`
		} `json:"routers"`
	}
	if err := json.Unmarshal(raw, &exp); err != nil {
		tb.Fatal(err)
	}
	out := make(map[string][2]int64, len(exp.Routers))
	for serial, r := range exp.Routers {
		out[serial] = [2]int64{r.Tx, r.Rx}
	}
	if len(out) == 0 {
		tb.Fatal("testkit: no routers in router-telemetry-expected.json")
	}
	return out
}

// MigratedDB creates a database for the test, migrates it on plain
// PostgreSQL and returns a pool on it; both go when the test ends.
func MigratedDB(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	_, pool := MigratedDSN(tb)
	return pool
}

// MigratedDSN is [MigratedDB] for tests that also hand the database to a
// command: it returns the database's DSN with the pool.
func MigratedDSN(tb testing.TB) (string, *pgxpool.Pool) {
	tb.Helper()
	dsn := pgtest.NewDatabase(tb)
	return dsn, OpenMigrated(tb, dsn)
}

// OpenMigrated migrates the database at dsn on plain PostgreSQL and
// returns a pool on it, closed when the test ends. Tests that run their
// own cluster use it; the others use [MigratedDB].
func OpenMigrated(tb testing.TB, dsn string) *pgxpool.Pool {
	tb.Helper()
	ctx := context.Background()
	pool, err := db.Open(ctx, dsn, 8)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	if _, err := db.Migrate(ctx, pool, slog.New(slog.DiscardHandler), db.TimescaleOff); err != nil {
		tb.Fatal(err)
	}
	return pool
}
