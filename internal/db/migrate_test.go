package db_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/routerlogger/routerlogger/internal/db"
	"github.com/routerlogger/routerlogger/internal/pgtest"
)

func TestMigrate_ConcurrentAndIdempotent(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	pool, err := db.Open(ctx, dsn, 8)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	if _, err := db.Check(ctx, pool); !errors.Is(err, db.ErrNotMigrated) {
		t.Fatalf("check before migrate: %v, want ErrNotMigrated", err)
	}

	// Four instances starting at once: the advisory lock lets one apply
	// each migration and the others find it applied.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = db.Migrate(ctx, pool, slog.New(slog.DiscardHandler), db.TimescaleOff)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	migs, _ := db.Migrations()
	var applied int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM schema_migrations").Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != len(migs) {
		t.Fatalf("%d migrations recorded, want %d", applied, len(migs))
	}
	st, err := db.Check(ctx, pool)
	if err != nil || st.Current != st.Latest || st.Mode != db.ModePlain {
		t.Fatalf("check after migrate: %+v %v", st, err)
	}
}

// TestReaderRole checks that routerlogger_reader reads the analyst views
// and nothing else, and cannot write.
func TestReaderRole(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	ctx := context.Background()
	pool, err := db.Open(ctx, dsn, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := db.Migrate(ctx, pool, slog.New(slog.DiscardHandler), db.TimescaleOff); err != nil {
		t.Fatal(err)
	}

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SET ROLE routerlogger_reader"); err != nil {
		t.Fatal(err)
	}

	allowed := []string{
		"SELECT * FROM router_usage_hourly", "SELECT * FROM router_usage_daily",
		"SELECT * FROM fleet_usage_daily", "SELECT * FROM router_latest",
		"SELECT * FROM router_events", "SELECT * FROM ingest_health", "SELECT sample_events(3)",
	}
	for _, q := range allowed {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Errorf("reader: %s: %v", q, err)
		}
	}

	denied := []string{
		"SELECT * FROM samples", "SELECT * FROM routers", "SELECT * FROM api_tokens",
		"SELECT * FROM rejects", "SELECT * FROM usage_daily", "SELECT * FROM router_status",
		"INSERT INTO routers (serial) VALUES ('x')", "DELETE FROM usage_hourly",
		"CREATE TABLE mine (x int)", "SELECT routers_add_status()",
	}
	for _, q := range denied {
		_, err := conn.Exec(ctx, q)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("reader: %s: %v, want permission denied (42501)", q, err)
		}
	}
	// Views over joins are not updatable at all; either way the write fails.
	if _, err := conn.Exec(ctx, "UPDATE router_usage_daily SET tx_bytes = 0"); err == nil {
		t.Error("reader could update a view")
	}
}
